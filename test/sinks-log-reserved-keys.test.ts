/**
 * `logEvents` with pino's defaults: pino writes `level`, `time`, `pid`, `hostname` and `msg` on
 * every line itself, so an event field of one of those names (`pool:lost` carries the lost
 * pool's `pid`) was written a second time: a line with two `"pid"` keys, which JSON.parse reads
 * as the dead process's pid (the line looks written by it) and which log stores that refuse
 * duplicate keys (Elasticsearch: "Duplicate field") drop. Such a field is logged under the
 * event's scope instead (`poolPid`), and the line names the lost pool.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { EventBus } from '../src/core/events.js';
import { logEvents } from '../src/sinks/log.js';

/** Every key of a JSON object text at the top level, in order, repeats included. */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        if (depth === 1 && line[i + 1] === ':') keys.push(line.slice(start + 1, i));
      }
    } else if (c === '"') {
      inString = true;
      start = i;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

test("pool:lost with pino's defaults: no key twice, pino's pid stays the logging process's", () => {
  const raw: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (chunk: string) => raw.push(chunk.trim()) });
  const bus = new EventBus();
  logEvents({ events: bus }, logger);
  const lostPid = process.pid + 1000;
  bus.emit('pool:lost', { poolId: 'host-b:4242:abc', host: 'host-b', pid: lostPid, lastSeenAt: 1, at: 2 });

  assert.equal(raw.length, 1);
  const keys = topLevelKeys(raw[0]!);
  const repeated = keys.filter((key, index) => keys.indexOf(key) !== index);
  assert.deepEqual(repeated, [], `keys written twice in ${raw[0]}`);
  const line = JSON.parse(raw[0]!) as Record<string, unknown>;
  assert.equal(line.pid, process.pid, "pino's pid is the process that wrote the line");
  assert.equal(line.poolPid, lostPid, "the lost pool's pid, under the event's scope");
  assert.equal(line.host, 'host-b');
  assert.equal(line.poolId, 'host-b:4242:abc');
  assert.match(String(line.msg), /host-b:4242:abc/, 'the message names the lost pool');
});

test('a field named like any key pino writes is renamed the same way; others are untouched', () => {
  const raw: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (chunk: string) => raw.push(chunk.trim()) });
  const bus = new EventBus();
  logEvents({ events: bus }, logger);
  // Not a real payload: a future event carrying every reserved name.
  bus.emit('queue:paused', { queue: 'q', at: 5, level: 'x', time: 't', hostname: 'h', msg: 'm' } as never);
  const keys = topLevelKeys(raw[0]!);
  assert.deepEqual(
    keys.filter((key, index) => keys.indexOf(key) !== index),
    [],
    `keys written twice in ${raw[0]}`,
  );
  const line = JSON.parse(raw[0]!) as Record<string, unknown>;
  assert.deepEqual(
    {
      level: line.level,
      queueLevel: line.queueLevel,
      queueTime: line.queueTime,
      queueHostname: line.queueHostname,
      queueMsg: line.queueMsg,
      queue: line.queue,
      at: line.at,
    },
    { level: 30, queueLevel: 'x', queueTime: 't', queueHostname: 'h', queueMsg: 'm', queue: 'q', at: 5 },
  );
});
