/** The pool lives in `./pool/`; this path stays for existing imports. */
export { Pool, type PoolHost, type PoolOptions } from './pool/pool.js';
