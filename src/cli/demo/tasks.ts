/**
 * The example tasks of `jobwire dev`, in the spirit of a real application: e-mail, reports,
 * CSV imports and video processing. Failures are simulated so retries, timeouts, abandonment
 * and cancellation all show up in a short run.
 *
 * Determinism: every random choice comes from a seeded generator. The plan (which jobs, with
 * which payloads and options) comes from the run's seed; inside a handler, chance comes from
 * the job's own `seed` and the attempt number. So one `--seed` gives the same jobs and the same
 * failures on every run; only timing (and so the odd timeout) varies.
 */
import {
  type AnyTask,
  defineTask,
  type EnqueueOptions,
  type TaskContext,
  UnrecoverableError,
} from '../../index.js';

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Chance for one attempt of one job: the same job and attempt always draw the same numbers. */
function attemptRandom(seed: number, attempt: number): () => number {
  return seededRandom(Math.imul(seed ^ 0x5bd1e995, 31) + attempt * 0x9e3779b9);
}

/** Wait `ms`, or reject with the signal's reason (timeout, cancellation, shutdown) as soon as it fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const between = (random: () => number, min: number, max: number) => Math.round(min + random() * (max - min));

/** Forced behaviour the plan gives a few jobs so every kind of outcome appears at least once. */
export interface Simulate {
  /** Fail this many first attempts with a transient error. */
  failAttempts?: number;
  /** Make this many first attempts slower than the task's timeout. */
  slowAttempts?: number;
  /** Throw UnrecoverableError at this CSV row. */
  malformedRow?: number;
}

interface Demo {
  /** Drives the job's own chance. */
  seed: number;
  simulate?: Simulate;
}

export type EmailPayload = Demo & { to: string; subject: string; template: string };
export type ReportPayload = Demo & { report: string; period: string };
export type DataPayload = Demo & { file: string; rows: number };
export type VideoPayload = Demo & { videoId: string; target: string };

const fails = (payload: Demo, ctx: TaskContext) => ctx.job.attempt <= (payload.simulate?.failAttempts ?? 0);

/** Short; ~15 % of attempts hit a transient SMTP error. Addresses at unreachable.example always do. */
export const sendEmail = defineTask({
  name: 'send-email',
  queue: 'emails',
  maxAttempts: 4,
  backoff: { type: 'exponential', baseMs: 200, maxMs: 2000, jitter: true },
  handler: async (payload: EmailPayload, ctx) => {
    const random = attemptRandom(payload.seed, ctx.job.attempt);
    await sleep(between(random, 50, 200), ctx.signal);
    if (fails(payload, ctx) || payload.to.endsWith('@unreachable.example') || random() < 0.15) {
      throw new Error('SMTP 421 try again later');
    }
    return { messageId: `<${ctx.job.id}.${ctx.job.attempt}@mail.jobwire.dev>`, accepted: [payload.to] };
  },
});

/** 1–3 s, progress 0 → 100 % in steps of 10. */
export const generateReport = defineTask({
  name: 'generate-report',
  queue: 'reports',
  backoff: { type: 'fixed', delayMs: 500 },
  handler: async (payload: ReportPayload, ctx) => {
    const random = attemptRandom(payload.seed, ctx.job.attempt);
    const total = between(random, 1000, 3000);
    const failAt = fails(payload, ctx) || random() < 0.08 ? between(random, 2, 8) : -1;
    for (let step = 0; step <= 10; step++) {
      ctx.progress(step * 10);
      if (step === failAt) throw new Error('warehouse query failed: connection reset by peer');
      if (step < 10) await sleep(total / 10, ctx.signal);
    }
    return {
      report: payload.report,
      period: payload.period,
      url: `https://reports.example/${ctx.job.id}.pdf`,
    };
  },
});

/** Imports CSV rows in batches with progress; a malformed row abandons the job at once. */
export const processData = defineTask({
  name: 'process-data',
  backoff: { type: 'fixed', delayMs: 400 },
  handler: async (payload: DataPayload, ctx) => {
    const random = attemptRandom(payload.seed, ctx.job.attempt);
    const batch = 250;
    const malformed =
      payload.simulate?.malformedRow ?? (random() < 0.1 ? between(random, 1, payload.rows) : -1);
    let done = 0;
    while (done < payload.rows) {
      const next = Math.min(payload.rows, done + batch);
      if (malformed > done && malformed <= next) {
        throw new UnrecoverableError(
          `malformed CSV row ${malformed} in ${payload.file}: unterminated quoted field`,
        );
      }
      await sleep(between(random, 40, 90), ctx.signal);
      done = next;
      ctx.progress({ percent: Math.round((done / payload.rows) * 100), rows: `${done}/${payload.rows}` });
    }
    return { file: payload.file, imported: payload.rows };
  },
});

async function renderFrames(ctx: TaskContext, ms: number, failAt = -1): Promise<number> {
  const frames = Math.round((ms / 1000) * 30);
  const steps = 12;
  for (let step = 1; step <= steps; step++) {
    await sleep(ms / steps, ctx.signal);
    if (step === failAt) throw new Error('ffmpeg exited with code 1: Cannot allocate memory');
    const frame = Math.round((frames * step) / steps);
    ctx.progress({ percent: Math.round((step / steps) * 100), frame: `${frame}/${frames}` });
  }
  return frames;
}

/** Several seconds of frames; honours the signal (cancellation, shutdown). ~10 % fail transiently. */
export const resizeVideo = defineTask({
  name: 'resize-video',
  queue: 'media',
  backoff: { type: 'fixed', delayMs: 600 },
  handler: async (payload: VideoPayload, ctx) => {
    const random = attemptRandom(payload.seed, ctx.job.attempt);
    const ms = between(random, 2000, 4000);
    const failAt = fails(payload, ctx) || random() < 0.1 ? between(random, 3, 10) : -1;
    const frames = await renderFrames(ctx, ms, failAt);
    return { videoId: payload.videoId, target: payload.target, frames };
  },
});

/** Timeout of the convert-video task, in ms. */
export const CONVERT_TIMEOUT_MS = 4500;

/** Several seconds with a 4.5 s timeout that the slower conversions trip (the signal aborts them). */
export const convertVideo = defineTask({
  name: 'convert-video',
  queue: 'media',
  timeoutMs: CONVERT_TIMEOUT_MS,
  backoff: { type: 'fixed', delayMs: 500 },
  handler: async (payload: VideoPayload, ctx) => {
    const random = attemptRandom(payload.seed, ctx.job.attempt);
    const slow = ctx.job.attempt <= (payload.simulate?.slowAttempts ?? 0);
    const ms = slow ? CONVERT_TIMEOUT_MS + 1500 : between(random, 2000, 5200);
    const frames = await renderFrames(ctx, ms);
    return { videoId: payload.videoId, target: payload.target, frames };
  },
});

/** Every demo task. */
export const demoTasks: readonly AnyTask[] = [
  sendEmail,
  generateReport,
  processData,
  resizeVideo,
  convertVideo,
];

/** Queues the demo tasks use; the demo pool serves all of them. */
export const demoQueues = ['default', 'emails', 'reports', 'media'];

/** One job the demo enqueues. */
export interface PlannedJob {
  task: AnyTask;
  payload: Demo & Record<string, unknown>;
  options: EnqueueOptions;
  /** The demo cancels this job this long after it starts running. */
  cancelAfterMs?: number;
  /** Enqueued again to show unique-key dedupe; not a new job. */
  duplicate?: boolean;
}

const NAMES = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'frances', 'alan', 'radia'];
const TEMPLATES = [
  { template: 'welcome', subject: 'Welcome to Acme!' },
  { template: 'invoice', subject: 'Your invoice is ready' },
  { template: 'password-reset', subject: 'Reset your password' },
  { template: 'weekly-digest', subject: 'Your week at Acme' },
];
const REPORTS = ['daily-sales', 'inventory', 'churn', 'payouts'];
const TARGETS = { resize: ['1080p', '720p', '480p', 'thumbnail'], convert: ['webm', 'hls', 'mp4-h265'] };

/** A random job of a random task (weights: e-mail 40 %, report 20 %, data 15 %, videos 25 %). */
export function randomJob(random: () => number, serial: number): PlannedJob {
  const seed = Math.floor(random() * 2 ** 31);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const roll = random();
  const options: EnqueueOptions = {};
  if (random() < 0.12) options.delayMs = between(random, 500, 4000);
  if (roll < 0.4) {
    const mail = pick(TEMPLATES);
    if (mail.template === 'password-reset') options.priority = 10;
    if (mail.template === 'weekly-digest') options.priority = -5;
    return { task: sendEmail, payload: { seed, to: `${pick(NAMES)}@example.com`, ...mail }, options };
  }
  if (roll < 0.6) {
    return { task: generateReport, payload: { seed, report: pick(REPORTS), period: '2026-W48' }, options };
  }
  if (roll < 0.75) {
    const rows = between(random, 4, 24) * 100;
    return {
      task: processData,
      payload: { seed, file: `imports/customers-${String(serial).padStart(4, '0')}.csv`, rows },
      options,
    };
  }
  const video = `vid_${(seed % 100_000).toString(36)}`;
  if (roll < 0.875)
    return { task: resizeVideo, payload: { seed, videoId: video, target: pick(TARGETS.resize) }, options };
  return { task: convertVideo, payload: { seed, videoId: video, target: pick(TARGETS.convert) }, options };
}

/**
 * The jobs of a demo run: `count` new jobs (a few forced to show a retry, an unrecoverable
 * error, exhausted attempts, a timeout and a cancellation) plus two extra enqueues that reuse a
 * unique key and are deduplicated.
 */
export function demoPlan(count: number, seed: number): PlannedJob[] {
  const random = seededRandom(seed);
  const jobs: PlannedJob[] = [];
  for (let i = 0; i < count; i++) jobs.push(randomJob(random, i + 1));
  const s = () => Math.floor(random() * 2 ** 31);
  const showcase: PlannedJob[] = [
    {
      task: sendEmail,
      payload: { seed: s(), to: 'grace@example.com', ...TEMPLATES[1]!, simulate: { failAttempts: 1 } },
      options: {},
    },
    {
      task: processData,
      payload: { seed: s(), file: 'imports/legacy-crm.csv', rows: 1800, simulate: { malformedRow: 1042 } },
      options: {},
    },
    {
      task: sendEmail,
      payload: { seed: s(), to: 'ops@unreachable.example', ...TEMPLATES[0]! },
      options: { priority: 1 },
    },
    {
      task: convertVideo,
      payload: { seed: s(), videoId: 'vid_launch', target: 'hls', simulate: { slowAttempts: 1 } },
      options: {},
    },
    {
      task: resizeVideo,
      payload: { seed: s(), videoId: 'vid_oops', target: '1080p' },
      options: {},
      cancelAfterMs: 1200,
    },
  ];
  // Forced jobs replace random ones at random places; small runs get fewer of them.
  const forced = showcase.slice(0, Math.floor(count / 4));
  const slots = [...jobs.keys()];
  for (let i = slots.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  forced.forEach((job, i) => {
    jobs[slots[i]!] = job;
  });
  if (count >= 5) {
    // One report, requested three times with the same unique key: stored once.
    const report: PlannedJob = {
      task: generateReport,
      payload: { seed: s(), report: 'daily-sales', period: '2026-11-26' },
      options: { uniqueKey: 'report:daily-sales:2026-11-26', priority: 5 },
    };
    const index = slots[forced.length] ?? 0;
    jobs[index] = report;
    jobs.splice(index + 1, 0, { ...report, duplicate: true }, { ...report, duplicate: true });
  }
  return jobs;
}
