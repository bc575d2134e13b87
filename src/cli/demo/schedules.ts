/**
 * The demo's schedules (`jobwire dev` / `npm start`): recurring work a newcomer sees fire within
 * seconds — an interval, and a cron pattern with seconds read in a time zone whose runs never
 * overlap.
 */
import { defineSchedule, type ScheduleDefinition } from '../../index.js';
import { generateReport, sendEmail } from './tasks.js';

export const demoSchedules: readonly ScheduleDefinition[] = [
  defineSchedule({
    id: 'demo:digest-email',
    every: '15s',
    task: sendEmail,
    payload: { seed: 7, to: 'team@example.com', subject: 'Your digest', template: 'digest' },
  }),
  defineSchedule({
    id: 'demo:sales-report',
    cron: '*/20 * * * * *',
    timezone: 'Europe/London',
    task: generateReport,
    payload: { seed: 11, report: 'sales', period: 'last 20 s' },
    overlap: 'skip',
  }),
];
