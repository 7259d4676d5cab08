// The transports tsplay ships, registered under the names ansible_connection uses.
import { registerTransport } from './factory.js';
import { LocalConnection } from './local.js';

registerTransport(['local'], (host) => new LocalConnection(host));
