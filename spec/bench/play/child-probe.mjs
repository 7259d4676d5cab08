// Preloaded into the tsplay CLI the bench runs (`node --import <this> dist/bundle/main.js ...`).
// Plain JavaScript: it runs in the built CLI's process, without a TypeScript loader.
//
// Always: on exit, writes the process's own resource usage (peak RSS, user and system CPU) as
// JSON to $TSPLAY_BENCH_PROBE_OUT — measured in the process itself, so it is tsplay's, not a
// wrapper's. With TSPLAY_BENCH_COUNT=1 it also counts what crosses the wire per task: ssh
// connections, exec channels, requests to the long-lived shell, SFTP sessions and SFTP requests
// (ssh2's Client, Protocol and SFTP prototypes, patched before the CLI loads them), each counted
// against the task whose `task-start` event was last written to stdout (--json; the linear
// strategy finishes a task on every host before the next task starts).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const out = process.env.TSPLAY_BENCH_PROBE_OUT;
const counting = process.env.TSPLAY_BENCH_COUNT === '1';
/** task name -> counters */
const counts = {};
let current = '(before the first task)';
/** With TSPLAY_BENCH_TRACE=FILE: [ms since start, what, detail] for task starts and each exec request. */
const traceFile = process.env.TSPLAY_BENCH_TRACE;
const trace = [];
const t0 = performance.now();
const mark = (what, detail, text) => traceFile && trace.push([+(performance.now() - t0).toFixed(2), what, detail, ...(text ? [text] : [])]);

function bump(kind, detail) {
  const c = (counts[current] ??= { connect: 0, exec: 0, shell: 0, sftpSession: 0, sftpRequest: 0, execScripts: [] });
  c[kind]++;
  if ((kind === 'exec' || kind === 'shell') && c.execScripts.length < 12) c.execScripts.push(`${kind === 'shell' ? '[shell] ' : ''}${detail}`);
}

if (counting) {
  // resolve ssh2 as the CLI does (from its own node_modules), so the patched prototypes are the ones it uses
  const require = createRequire(process.env.TSPLAY_BENCH_CLI ?? import.meta.url);
  const ssh2 = require('ssh2');
  const { SFTP } = require('ssh2/lib/protocol/SFTP.js');
  const wrap = (proto, method, kind, detail) => {
    const original = proto[method];
    proto[method] = function counted(...args) {
      bump(kind, detail?.(args));
      return original.apply(this, args);
    };
  };
  wrap(ssh2.Client.prototype, 'connect', 'connect');
  // every exec request goes through the protocol layer: ssh2's client.exec and tsplay's spare
  // session (a channel opened ahead, then only the exec request sent) alike
  const Protocol = require('ssh2/lib/protocol/Protocol.js');
  wrap(Protocol.prototype, 'exec', 'exec', (args) => String(args[1]).slice(0, 160));
  if (traceFile) {
    const counted = Protocol.prototype.exec;
    let seq = 0;
    Protocol.prototype.exec = function traced(chan, command, ...rest) {
      mark('exec', ++seq, command);
      return counted.call(this, chan, command, ...rest);
    };
  }
  // a request to the connection's long-lived shell (engine/connection/persistent-shell.ts) is
  // data on a channel already open, counted apart from exec channels: the first packet of each
  // starts with requestText's opening (the CLI is bundled, so the class itself is out of reach)
  const SHELL_REQUEST = '{\ntsplay_sh_c=';
  const channelData = Protocol.prototype.channelData;
  let shellSeq = 0;
  Protocol.prototype.channelData = function counted(chan, data, ...rest) {
    const head = Buffer.isBuffer(data) ? data.subarray(0, 200).toString('utf8') : String(data).slice(0, 200);
    if (head.startsWith(SHELL_REQUEST)) {
      const script = head.slice(SHELL_REQUEST.length).replace(/^'/, '');
      bump('shell', script.slice(0, 160));
      mark('shell', ++shellSeq, script);
    }
    return channelData.call(this, chan, data, ...rest);
  };
  wrap(ssh2.Client.prototype, 'sftp', 'sftpSession');
  for (const m of ['open', 'close', 'read', 'write', 'fstat', 'stat', 'lstat', 'mkdir', 'rmdir', 'unlink', 'rename', 'fchmod', 'chmod', 'setstat', 'fsetstat', 'readdir', 'opendir', 'realpath', 'readlink', 'symlink', 'fchown', 'chown']) {
    if (typeof SFTP.prototype[m] === 'function') wrap(SFTP.prototype, m, 'sftpRequest');
  }

  // follow the NDJSON event stream to know the current task
  const write = process.stdout.write.bind(process.stdout);
  let partial = '';
  process.stdout.write = (chunk, ...rest) => {
    partial += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.includes('"task-start"')) {
        try {
          const event = JSON.parse(line);
          if (event.kind === 'task-start') {
            current = event.name;
            mark('task', event.name);
          }
        } catch {
          // not an event line
        }
      } else if (line.includes('"recap"')) current = '(after the last task)';
    }
    return write(chunk, ...rest);
  };
}

process.on('exit', () => {
  if (traceFile) writeFileSync(traceFile, JSON.stringify(trace));
  if (!out) return;
  const usage = process.resourceUsage();
  let vmHwmKiB;
  try {
    vmHwmKiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  } catch {
    vmHwmKiB = undefined;
  }
  writeFileSync(out, JSON.stringify({ maxRssKiB: usage.maxRSS, vmHwmKiB, userSec: usage.userCPUTime / 1e6, systemSec: usage.systemCPUTime / 1e6, counts: counting ? counts : undefined }));
});
