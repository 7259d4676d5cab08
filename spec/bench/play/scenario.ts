// The benchmark's play, described once as data: the YAML both tsplay and Ansible run unchanged,
// the controller files it reads (files/, templates/), and the end state every host must reach
// (the floor script and the verification are generated from the same description).
//
// 37 tasks: 10 file (directories), 10 copy, 5 template, 5 lineinfile, 5 command with creates,
// one file task looping over 20 items, one apt present of a package the machine (and so every
// lab host, whose root filesystem is the machine's) already has.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the play writes on every host; the bench removes it before each cold and check run. */
export const TARGET_ROOT = '/srv/tsplay-bench';
/** Installed on this machine, so present in every lab host: apt has nothing to do. */
export const APT_PACKAGE = 'openssh-client';
export const PLAY_VARS = { bench_port: 8000, bench_name: 'bench', bench_servers: ['alpha', 'beta', 'gamma'] };

export type BenchTask =
  | { module: 'file'; name: string; dir: string; mode: string }
  | { module: 'copy'; name: string; src: string; dest: string; mode: string; content: Buffer }
  | { module: 'template'; name: string; src: string; dest: string; mode: string; index: number }
  | { module: 'lineinfile'; name: string; dest: string; mode: string; regexp: string; line: string }
  | { module: 'command'; name: string; creates: string }
  | { module: 'file-loop'; name: string; dirs: string[]; mode: string }
  | { module: 'apt'; name: string; pkg: string };

const pad = (n: number) => String(n).padStart(2, '0');

/** Deterministic text of `size` bytes (copy sources from 128 B to 64 KiB). */
function copyContent(index: number, size: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `file ${pad(index)} line ${String(i).padStart(5, '0')} ${createHash('sha1').update(`${index}:${i}`).digest('hex')}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('').slice(0, size - 1) + '\n');
}

/** The template sources: Jinja that both engines accept (plain variables, + and filters, no {% %}). */
function templateSource(index: number): string {
  return [
    `# {{ bench_name }} app ${index} on {{ inventory_hostname }}`,
    `listen = {{ bench_port + ${index} }}`,
    `servers = {{ bench_servers | join(',') }}`,
    `name = {{ bench_name | upper }}-${index}`,
    '',
  ].join('\n');
}

/** What templateSource renders to on `host` (what both engines must write). */
export function renderedTemplate(index: number, host: string): string {
  return [
    `# ${PLAY_VARS.bench_name} app ${index} on ${host}`,
    `listen = ${PLAY_VARS.bench_port + index}`,
    `servers = ${PLAY_VARS.bench_servers.join(',')}`,
    `name = ${PLAY_VARS.bench_name.toUpperCase()}-${index}`,
    '',
  ].join('\n');
}

export function benchTasks(): BenchTask[] {
  const r = TARGET_ROOT;
  const dirs: Array<[string, string]> = [
    ['', '0755'], ['files', '0755'], ['conf', '0750'], ['lines', '0755'], ['cmd', '0755'],
    ['loop', '0755'], ['tree', '0755'], ['tree/a', '0700'], ['tree/b', '0750'], ['tree/c', '0755'],
  ];
  const tasks: BenchTask[] = dirs.map(([d, mode], i) => ({ module: 'file', name: `file ${pad(i + 1)} ${d || '.'}`, dir: d ? `${r}/${d}` : r, mode }));
  const copyModes = ['0644', '0600', '0640'];
  for (let i = 1; i <= 10; i++) {
    tasks.push({ module: 'copy', name: `copy ${pad(i)}`, src: `f${pad(i)}.txt`, dest: `${r}/files/f${pad(i)}.txt`, mode: copyModes[i % 3]!, content: copyContent(i, 128 * 2 ** (i - 1)) });
  }
  for (let i = 1; i <= 5; i++) tasks.push({ module: 'template', name: `template ${pad(i)}`, src: `app-${i}.conf.j2`, dest: `${r}/conf/app-${i}.conf`, mode: '0644', index: i });
  for (let i = 1; i <= 5; i++) {
    tasks.push({ module: 'lineinfile', name: `lineinfile ${pad(i)}`, dest: `${r}/lines/${i <= 3 ? 'a' : 'b'}.conf`, mode: '0644', regexp: `^key${i}=`, line: `key${i}=value${i}` });
  }
  for (let i = 1; i <= 5; i++) tasks.push({ module: 'command', name: `command ${pad(i)}`, creates: `${r}/cmd/done-${pad(i)}` });
  tasks.push({ module: 'file-loop', name: 'file loop 20 items', dirs: Array.from({ length: 20 }, (_, i) => `${r}/loop/item-${pad(i + 1)}`), mode: '0755' });
  tasks.push({ module: 'apt', name: `apt ${APT_PACKAGE} present`, pkg: APT_PACKAGE });
  return tasks;
}

/** Tasks that change something on a fresh host (all but apt): cold and check report this many per host. */
export function changingTaskCount(tasks: BenchTask[]): number {
  return tasks.filter((t) => t.module !== 'apt').length;
}

/** The play as YAML, with paths through a variable as a real play would write them. */
export function playYaml(tasks: BenchTask[]): string {
  const q = (s: string) => JSON.stringify(s); // JSON strings are YAML double-quoted strings
  const path = (p: string) => q(p.replace(TARGET_ROOT, '{{ bench_root }}'));
  const out = [
    '# Written by spec/bench/play.bench.ts: tsplay and ansible-playbook run this file unchanged.',
    '- name: tsplay benchmark play',
    '  hosts: bench',
    '  gather_facts: false',
    '  vars:',
    `    bench_root: ${TARGET_ROOT}`,
    `    bench_port: ${PLAY_VARS.bench_port}`,
    `    bench_name: ${PLAY_VARS.bench_name}`,
    `    bench_servers: [${PLAY_VARS.bench_servers.join(', ')}]`,
    '  tasks:',
  ];
  for (const t of tasks) {
    out.push(`    - name: ${q(t.name)}`);
    switch (t.module) {
      case 'file':
        out.push('      file:', `        path: ${path(t.dir)}`, '        state: directory', `        mode: ${q(t.mode)}`);
        break;
      case 'copy':
      case 'template':
        out.push(`      ${t.module}:`, `        src: ${t.src}`, `        dest: ${path(t.dest)}`, `        mode: ${q(t.mode)}`);
        break;
      case 'lineinfile':
        out.push('      lineinfile:', `        path: ${path(t.dest)}`, `        regexp: ${q(t.regexp)}`, `        line: ${q(t.line)}`, '        create: true', `        mode: ${q(t.mode)}`);
        break;
      case 'command':
        out.push('      command:', `        cmd: touch ${t.creates.replace(TARGET_ROOT, '{{ bench_root }}')}`, `        creates: ${path(t.creates)}`);
        break;
      case 'file-loop': {
        const base = t.dirs[0]!.replace(/[^/]*$/, '');
        out.push('      file:', `        path: ${path(`${base}item-{{ item }}`)}`, '        state: directory', `        mode: ${q(t.mode)}`);
        out.push(`      loop: [${t.dirs.map((d) => q(d.slice(base.length + 'item-'.length))).join(', ')}]`);
        break;
      }
      case 'apt':
        out.push('      apt:', `        name: ${t.pkg}`, '        state: present');
        break;
    }
  }
  return out.join('\n') + '\n';
}

/** Writes play.yml, files/ and templates/ into `dir`; returns the playbook path. */
export function writePlayDir(dir: string, tasks: BenchTask[]): string {
  mkdirSync(join(dir, 'files'), { recursive: true });
  mkdirSync(join(dir, 'templates'), { recursive: true });
  for (const t of tasks) {
    if (t.module === 'copy') writeFileSync(join(dir, 'files', t.src), t.content);
    if (t.module === 'template') writeFileSync(join(dir, 'templates', t.src), templateSource(t.index));
  }
  const playbook = join(dir, 'play.yml');
  writeFileSync(playbook, playYaml(tasks));
  return playbook;
}

/** One entry of a host's end state under TARGET_ROOT: type (d/f), octal mode, sha256 of a file. */
export interface StateEntry {
  /** find's %y: d, f (anything else is wrong here: l, p, ...) */
  type: string;
  mode: string;
  sha256?: string;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The end state of `host` after the play, keyed by path relative to TARGET_ROOT ('.' is the root). */
export function expectedState(tasks: BenchTask[], host: string): Map<string, StateEntry> {
  const state = new Map<string, StateEntry>();
  const rel = (p: string) => (p === TARGET_ROOT ? '.' : `.${p.slice(TARGET_ROOT.length)}`);
  const mode = (m: string) => m.replace(/^0(?=\d{3})/, '');
  const lines = new Map<string, string[]>();
  for (const t of tasks) {
    switch (t.module) {
      case 'file':
        state.set(rel(t.dir), { type: 'd', mode: mode(t.mode) });
        break;
      case 'file-loop':
        for (const d of t.dirs) state.set(rel(d), { type: 'd', mode: mode(t.mode) });
        break;
      case 'copy':
        state.set(rel(t.dest), { type: 'f', mode: mode(t.mode), sha256: sha256(t.content) });
        break;
      case 'template':
        state.set(rel(t.dest), { type: 'f', mode: mode(t.mode), sha256: sha256(renderedTemplate(t.index, host)) });
        break;
      case 'lineinfile': {
        const list = lines.get(t.dest) ?? [];
        list.push(t.line);
        lines.set(t.dest, list);
        state.set(rel(t.dest), { type: 'f', mode: mode(t.mode), sha256: sha256(list.map((l) => `${l}\n`).join('')) });
        break;
      }
      case 'command':
        state.set(rel(t.creates), { type: 'f', mode: '644', sha256: sha256('') }); // touch under umask 022
        break;
      case 'apt':
        break;
    }
  }
  return state;
}
