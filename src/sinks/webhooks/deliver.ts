/**
 * One HTTP delivery of a signed webhook: POST, no redirects followed, a time limit, and the
 * target address checked as the connection is made. The check sits in the socket's own DNS
 * lookup, so the address judged is the address connected to: a name that resolves to a public
 * address when configured and to 127.0.0.1 later (DNS rebinding) is refused at delivery.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { JobwireError } from '../../core/errors.js';
import { classifyAddress } from './address.js';

/** A webhook target resolved to an address it may not reach (see `allowPrivateTargets`). */
export class WebhookTargetRefusedError extends JobwireError {
  static override readonly code = 'JOBWIRE_WEBHOOK_TARGET_REFUSED';

  constructor(
    readonly host: string,
    readonly address: string,
    readonly kind: string,
  ) {
    super(
      WebhookTargetRefusedError.code,
      `webhook target ${host} resolves to ${address}, a ${kind} address; webhooks only reach public ` +
        'addresses unless the sink is created with allowPrivateTargets: true',
    );
  }
}

/** An endpoint answered with a status that is not 2xx. */
export class WebhookResponseError extends JobwireError {
  static override readonly code = 'JOBWIRE_WEBHOOK_RESPONSE';

  constructor(
    readonly status: number,
    readonly bodyPreview: string,
  ) {
    super(
      WebhookResponseError.code,
      `webhook endpoint answered ${status}${bodyPreview ? `: ${bodyPreview}` : ''}`,
    );
  }
}

/** What `deliverHttp` needs. */
export interface HttpDelivery {
  url: URL;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivateTargets: boolean;
  signal: AbortSignal;
}

/** How much of a failed response's body goes into the error (and so into the job's history). */
const BODY_PREVIEW_CHARS = 200;
/** Bytes of a response body read at most; the rest is dropped with the connection. */
const MAX_BODY_BYTES = 16 * 1024;

/** Throw WebhookTargetRefusedError when `address` is not public and private targets are refused. */
export function assertPublicAddress(host: string, address: string, allowPrivate: boolean): void {
  if (allowPrivate) return;
  const kind = classifyAddress(address);
  if (kind !== null) throw new WebhookTargetRefusedError(host, address, kind);
}

/** A DNS lookup for sockets that refuses every non-public address it resolves to. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      try {
        // Every address is checked, not only the first: the socket may try the others.
        for (const { address } of addresses) assertPublicAddress(hostname, address, allowPrivate);
      } catch (refused) {
        return callback(refused);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}

/**
 * POST the body. Resolves with the status of a 2xx answer; rejects with WebhookResponseError for
 * any other status (a 3xx redirect included: it is not followed), WebhookTargetRefusedError for a
 * refused address, or the network or abort error.
 */
export async function deliverHttp(delivery: HttpDelivery): Promise<number> {
  const { url } = delivery;
  // An IP literal never reaches the lookup hook: check it here.
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) !== 0) assertPublicAddress(url.hostname, literal, delivery.allowPrivateTargets);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(delivery.body)),
        'user-agent': 'jobwire-webhooks',
        ...delivery.headers,
      },
      lookup: guardedLookup(delivery.allowPrivateTargets),
      signal: delivery.signal,
      timeout: delivery.timeoutMs,
    });
    req.on('timeout', () => {
      req.destroy(new Error(`webhook endpoint did not answer within ${delivery.timeoutMs} ms`));
    });
    req.on('error', reject);
    req.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      // The status line is the answer: a 2xx is a success now, whatever its body does after it
      // (waiting for a streamed or trickling body would fail an accepted delivery on the time
      // limit, and send it again). The body is not needed: the connection is dropped.
      if (status >= 200 && status < 300) {
        resolve(status);
        response.on('error', () => {}); // a reset after the answer changes nothing
        response.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const fail = () => {
        if (settled) return;
        settled = true;
        const preview = Buffer.concat(chunks).toString('utf8').slice(0, BODY_PREVIEW_CHARS).trim();
        reject(new WebhookResponseError(status, preview));
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Enough for the preview: the rest is dropped with the connection (an endless error body
        // must not hide the status behind the time limit).
        if (size >= MAX_BODY_BYTES) {
          fail();
          response.destroy();
        }
      });
      response.on('error', (error) => (settled ? undefined : reject(error)));
      response.on('end', fail);
    });
    req.end(delivery.body);
  });
}
