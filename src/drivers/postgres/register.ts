/**
 * The PostgreSQL driver's registration: `postgres://` and `postgresql://` connection URLs.
 * The driver itself (and pg) is imported only when such a location is opened.
 */
import { registerDriver } from '../../driver/registry.js';

registerDriver({
  name: 'postgres',
  schemes: ['postgres', 'postgresql'],
  requires: 'pg',
  async open(location) {
    const { postgresDriver } = await import('./index.js');
    return postgresDriver({ connectionString: location });
  },
});
