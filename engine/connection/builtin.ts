// The transports tsplay ships, registered under the names ansible_connection uses.
import { registerTransport } from './factory.js';
import { LocalConnection } from './local.js';
import { SshConnection } from './ssh.js';

registerTransport(['local'], (host) => new LocalConnection(host));
registerTransport(['ssh', 'paramiko', 'smart'], (host, vars) => new SshConnection(host, vars));
