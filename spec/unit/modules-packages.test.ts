// apt, dnf, yum, package, service and systemd on the local machine, with fake package and
// service tools first in PATH (shell scripts keeping their state in a temp dir): what each
// module plans, that check mode predicts the real run exactly and changes nothing, that a
// second run is ok, and that bad arguments fail at load with file:line.
// No real package is installed and no real service touched here: spec/lab/modules-packages.test.ts
// does that on lab hosts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.js';
import { HostOps } from '../../engine/connection/host-ops.js';
import type { ModuleContext, ModuleResult } from '../../engine/modules/types.js';
import { lookupModule, moduleNames } from '../../engine/modules/registry.js';
import { renderString } from '../../engine/vars/template.js';
import { InventoryModel } from '../../engine/inventory/inventory.js';
import { loadPlaybook } from '../../engine/load/playbook.js';
import { ParseErrors } from '../../engine/load/collect.js';
import { ParseError } from '../../engine/errors.js';
import { parseSimulation } from '../../engine/modules/apt.js';
import { parsePackageList } from '../../engine/modules/packages-rpm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// ---------------------------------------------------------------- fake tools

const FAKE_APT_GET = String.raw`#!/bin/sh
# fake apt-get: installed packages in $FAKE/installed ("name version"), the archive in $FAKE/archive
echo "apt-get $*" >> "$FAKE/calls"
sim=0; op=; pkgs=
while [ $# -gt 0 ]; do
  case $1 in
    -s) sim=1 ;;
    -o|-t) shift ;;
    -*) ;;
    update|install|remove|autoremove) op=$1 ;;
    *) pkgs="$pkgs $1" ;;
  esac
  shift
done
touch "$FAKE/installed"
if [ "$op" = update ]; then touch "$FAKE/updated"; exit 0; fi
for spec in $pkgs; do
  name=${'${'}spec%%=*}
  case $spec in *.deb) name=$(sed -n 's/^Package: //p' "$spec"); ver=$(sed -n 's/^Version: //p' "$spec") ;;
    *=*) ver=${'${'}spec#*=} ;;
    *) ver=$(awk -v n="$name" '$1==n{print $2}' "$FAKE/archive") ;;
  esac
  cur=$(awk -v n="$name" '$1==n{print $2}' "$FAKE/installed")
  if [ "$op" = install ]; then
    [ -n "$ver" ] || { echo "E: Unable to locate package $name" >&2; exit 100; }
    [ "$cur" = "$ver" ] && continue
    if [ $sim = 1 ]; then
      if [ -n "$cur" ]; then echo "Inst $name [$cur] ($ver fake [all])"; else echo "Inst $name ($ver fake [all])"; fi
      echo "Conf $name ($ver fake [all])"
    else
      grep -v "^$name " "$FAKE/installed" > "$FAKE/i.tmp"; echo "$name $ver" >> "$FAKE/i.tmp"; mv "$FAKE/i.tmp" "$FAKE/installed"
    fi
  elif [ "$op" = remove ]; then
    [ -n "$cur" ] || continue
    if [ $sim = 1 ]; then echo "Remv $name [$cur]"; else grep -v "^$name " "$FAKE/installed" > "$FAKE/i.tmp"; mv "$FAKE/i.tmp" "$FAKE/installed"; fi
  fi
done
exit 0
`;

const FAKE_DPKG_QUERY = String.raw`#!/bin/sh
# fake dpkg-query -W -f=FORMAT -- names: prints "pkg\tname\tall\tii \tversion" for installed ones
touch "$FAKE/installed"
rc=0
for a in "$@"; do
  case $a in -*) continue ;; esac
  v=$(awk -v n="$a" '$1==n{print $2}' "$FAKE/installed")
  case "$*" in
    *Package*) if [ -n "$v" ]; then printf 'pkg\t%s\tall\tii \t%s\n' "$a" "$v"; else echo "dpkg-query: no packages found matching $a" >&2; rc=1; fi ;;
    *) [ -n "$v" ] && printf 'ii \t%s\n' "$v" ;;
  esac
done
exit $rc
`;

const FAKE_DPKG_DEB = String.raw`#!/bin/sh
# fake dpkg-deb -f FILE FIELDS: the "deb" is a text file of control fields
[ "$1" = -f ] || exit 2
file=$2; shift 2
[ -f "$file" ] || { echo "dpkg-deb: error: failed to read archive '$file'" >&2; exit 2; }
if [ $# = 1 ]; then sed -n "s/^$1: //p" "$file"; else for f in "$@"; do grep "^$f: " "$file"; done; fi
`;

const FAKE_RPM = String.raw`#!/bin/sh
# fake rpm -q --qf FMT -- spec: installed in $FAKE/installed ("name version.arch")
touch "$FAKE/installed"
qf=; spec=
while [ $# -gt 0 ]; do case $1 in --qf) qf=$2; shift ;; -q|--) ;; *) spec=$1 ;; esac; shift; done
v=$(awk -v n="$spec" '$1==n{print $2}' "$FAKE/installed")
[ -n "$v" ] || { echo "package $spec is not installed"; exit 1; }
fmt=$(printf '%s' "$qf" | sed "s/%{NAME}/$spec/; s/%{VERSION}-%{RELEASE}.%{ARCH}/$v/")
printf "$fmt"
`;

const FAKE_DNF = String.raw`#!/bin/sh
# fake dnf/yum: the archive in $FAKE/archive ("name version.arch")
echo "$(basename "$0") $*" >> "$FAKE/calls"
touch "$FAKE/installed"
op=; pkgs=
for a in "$@"; do case $a in -*) ;; check-update|list|available|install|upgrade|remove|makecache) [ -z "$op" ] && op=$a ;; *) pkgs="$pkgs $a" ;; esac; done
case $op in
  makecache) exit 0 ;;
  check-update)
    rc=0
    for p in $pkgs; do
      a=$(awk -v n="$p" '$1==n{print $2}' "$FAKE/archive"); i=$(awk -v n="$p" '$1==n{print $2}' "$FAKE/installed")
      if [ -n "$i" ] && [ -n "$a" ] && [ "$a" != "$i" ]; then printf '%s.%s  %s  fakerepo\n' "$p" "${'${'}a##*.}" "${'${'}a%.*}"; rc=100; fi
    done; exit $rc ;;
  list)
    found=0; echo "Available Packages"
    for p in $pkgs; do a=$(awk -v n="$p" '$1==n{print $2}' "$FAKE/archive"); [ -n "$a" ] && { printf '%s.%s  %s  fakerepo\n' "$p" "${'${'}a##*.}" "${'${'}a%.*}"; found=1; }; done
    [ $found = 1 ] || { echo "Error: No matching Packages to list" >&2; exit 1; } ;;
  install|upgrade)
    for p in $pkgs; do a=$(awk -v n="$p" '$1==n{print $2}' "$FAKE/archive")
      [ -n "$a" ] || { echo "Error: Unable to find a match: $p" >&2; exit 1; }
      grep -v "^$p " "$FAKE/installed" > "$FAKE/i.tmp"; echo "$p $a" >> "$FAKE/i.tmp"; mv "$FAKE/i.tmp" "$FAKE/installed"; done ;;
  remove)
    for p in $pkgs; do grep -v "^$p " "$FAKE/installed" > "$FAKE/i.tmp"; mv "$FAKE/i.tmp" "$FAKE/installed"; done ;;
esac
exit 0
`;

const FAKE_SYSTEMCTL = String.raw`#!/bin/sh
# fake systemctl: units in $FAKE/units/NAME, "active" and "enabled" marker files
echo "systemctl $*" >> "$FAKE/calls"
quiet=0; cmd=; prop=; unit=
for a in "$@"; do case $a in --quiet) quiet=1 ;; --property=*) prop=1 ;; --*) ;; show|is-enabled|start|stop|restart|reload|enable|disable|daemon-reload|mask|unmask) cmd=$a ;; *) unit=$a ;; esac; done
u="$FAKE/units/$unit"
case $cmd in
  daemon-reload) touch "$FAKE/reloaded"; exit 0 ;;
  show)
    if [ ! -d "$u" ]; then echo LoadState=not-found; echo ActiveState=inactive; echo SubState=dead; echo UnitFileState=; exit 0; fi
    echo LoadState=loaded
    if [ -e "$u/active" ]; then echo ActiveState=active; echo SubState=running; else echo ActiveState=inactive; echo SubState=dead; fi
    if [ -e "$u/enabled" ]; then echo UnitFileState=enabled; else echo UnitFileState=disabled; fi ;;
  is-enabled)
    [ -d "$u" ] || { [ $quiet = 1 ] || echo "Failed to get unit file state for $unit: No such file or directory" >&2; exit 1; }
    if [ -e "$u/enabled" ]; then [ $quiet = 1 ] || echo enabled; exit 0; else [ $quiet = 1 ] || echo disabled; exit 1; fi ;;
  start|restart|reload)
    [ -e "$u/broken" ] && { echo "Job for $unit failed because the control process exited with error code." >&2; exit 1; }
    touch "$u/active"; echo "$cmd" >> "$u/log" ;;
  stop) rm -f "$u/active"; echo stop >> "$u/log" ;;
  enable) touch "$u/enabled" ;;
  disable) rm -f "$u/enabled" ;;
esac
exit 0
`;

interface Fake {
  dir: string;
  bin: string;
  write(name: string, text: string): void;
  read(name: string): string;
  calls(): string[];
}

function fakeHost(): Fake {
  const dir = makeTempDir('tsplay-pkg-');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(dir, 'units'));
  const tools: Record<string, string> = {
    'apt-get': FAKE_APT_GET,
    'dpkg-query': FAKE_DPKG_QUERY,
    'dpkg-deb': FAKE_DPKG_DEB,
    rpm: FAKE_RPM,
    dnf: FAKE_DNF,
    yum: FAKE_DNF,
    systemctl: FAKE_SYSTEMCTL,
  };
  for (const [name, text] of Object.entries(tools)) {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  return {
    dir,
    bin,
    write: (name, text) => writeFileSync(join(dir, name), text),
    read: (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : ''),
    calls: () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : []),
  };
}

function context(fake: Fake, opts: { check?: boolean; facts?: Record<string, unknown> } = {}): ModuleContext {
  const conn = new LocalConnection('localhost');
  const env = { PATH: `${fake.bin}:${process.env.PATH}`, FAKE: fake.dir };
  return {
    host: 'localhost',
    conn,
    ops: new HostOps(conn, { env }),
    check: opts.check ?? false,
    diff: true,
    vars: {},
    taskPos: { file: join(fake.dir, 'tasks.yml'), line: 1, col: 1 },
    searchPaths: { files: [join(fake.dir, 'files')], templates: [] },
    renderTemplate: (text, file) => renderString(text, {}, { file, line: 1, col: 1 }),
    evaluateCondition: () => true,
    evaluateExpression: () => undefined,
    inventory: new InventoryModel(),
    ...(opts.facts ? { facts: opts.facts } : {}),
  };
}

async function run(name: string, args: Record<string, unknown>, ctx: ModuleContext): Promise<ModuleResult> {
  const def = lookupModule(name);
  assert.ok(def, `module ${name} is registered`);
  return def.run(args, ctx);
}

/** Check mode on one fake host, the real run on a twin: same changed and diff, nothing changed by the check; then a second run is ok. */
async function converges(name: string, args: Record<string, unknown>, setup: (f: Fake) => void, state: (f: Fake) => string): Promise<{ fake: Fake; real: ModuleResult }> {
  const checkFake = fakeHost();
  setup(checkFake);
  const before = state(checkFake);
  const checked = await run(name, args, context(checkFake, { check: true }));
  assert.ok(!checked.failed, `check failed: ${String(checked.msg)}`);
  assert.equal(state(checkFake), before, 'check mode changed nothing');

  const fake = fakeHost();
  setup(fake);
  const real = await run(name, args, context(fake));
  assert.ok(!real.failed, `${name} failed: ${String(real.msg)} ${String(real.stderr ?? '')}`);
  assert.equal(real.changed, true, 'the first run changes');
  assert.equal(checked.changed, real.changed, 'check mode predicts changed');
  assert.deepEqual(checked.diff, real.diff, 'check mode predicts the diff');
  const again = await run(name, args, context(fake));
  assert.ok(!again.failed, String(again.msg));
  assert.equal(again.changed, false, 'the second run is ok');
  assert.equal(again.diff, undefined);
  return { fake, real };
}

// ---------------------------------------------------------------- apt

describe('apt', () => {
  const archive = 'sl 5.02-1\ncowsay 3.03-1\nfiglet 2.2.5-3\n';
  const installed = (f: Fake) => f.read('installed');

  test('installs missing packages; the diff is the package set before and after', async () => {
    const { fake, real } = await converges('apt', { name: ['sl', 'cowsay'] }, (f) => {
      f.write('archive', archive);
      f.write('installed', 'cowsay 3.03-1\n');
    }, installed);
    assert.match(installed(fake), /^sl 5\.02-1$/m);
    assert.deepEqual(real.diff, [{ before: '', after: 'sl 5.02-1\n', beforeHeader: 'installed packages (before)', afterHeader: 'installed packages (after)' }]);
    const installs = fake.calls().filter((c) => / install /.test(c) && !/ -s /.test(c));
    assert.equal(installs.length, 1, 'one real install, of the missing package only');
    assert.match(installs[0]!, /-y -o DPkg::Lock::Timeout=60 .*install sl$/);
  });

  test('a comma list, name=version, and state latest upgrading what is older', async () => {
    const { fake, real } = await converges('apt', { name: 'sl,figlet', state: 'latest' }, (f) => {
      f.write('archive', archive);
      f.write('installed', 'sl 5.01-1\nfiglet 2.2.5-3\n');
    }, installed);
    assert.equal(real.diff![0]!.before, 'sl 5.01-1\n');
    assert.equal(real.diff![0]!.after, 'sl 5.02-1\n');
    assert.match(installed(fake), /^sl 5\.02-1$/m);

    const pinned = await converges('apt', { name: 'sl=5.00-1' }, (f) => f.write('archive', archive), installed);
    assert.match(installed(pinned.fake), /^sl 5\.00-1$/m);
  });

  test('state absent removes only what is installed', async () => {
    const { fake, real } = await converges('apt', { name: ['sl', 'figlet'], state: 'absent', purge: true }, (f) => {
      f.write('archive', archive);
      f.write('installed', 'sl 5.02-1\n');
    }, installed);
    assert.equal(installed(fake), '');
    assert.deepEqual([real.diff![0]!.before, real.diff![0]!.after], ['sl 5.02-1\n', '']);
    assert.ok(fake.calls().some((c) => /--purge remove sl$/.test(c)), fake.calls().join('\n'));
  });

  test('an unknown package fails in check mode too, with Ansible\'s message and the command', async () => {
    for (const check of [true, false]) {
      const fake = fakeHost();
      fake.write('archive', archive);
      const res = await run('apt', { name: 'nosuchpkg' }, context(fake, { check }));
      assert.equal(res.failed, true);
      assert.equal(res.msg, "No package matching 'nosuchpkg' is available");
      assert.match(String(res.cmd), /^apt-get -s .*install nosuchpkg$/);
      assert.equal(res.rc, 100);
    }
  });

  test('update_cache: updated when older than cache_valid_time, a change only when alone', async () => {
    const fake = fakeHost();
    fake.write('archive', archive);
    const checked = await run('apt', { update_cache: true }, context(fake, { check: true }));
    assert.equal(checked.changed, true);
    assert.equal(fake.read('updated'), '', 'check mode did not update');
    assert.equal(existsSync(join(fake.dir, 'updated')), false);
    const real = await run('apt', { update_cache: true }, context(fake));
    assert.equal(real.changed, true);
    assert.equal(real.cache_updated, true);
    assert.equal(existsSync(join(fake.dir, 'updated')), true);
    // the machine's cache was updated within a day (or the host has none): only the age decides
    const withPackage = await run('apt', { name: 'sl', update_cache: true, cache_valid_time: 10 ** 9 }, context(fake));
    assert.equal(withPackage.cache_updated, false, 'a cache younger than cache_valid_time is kept');
    assert.equal(withPackage.changed, true, 'the package install is the change');
  });

  test('deb: a package file from the controller is copied over, inspected and installed; removed from the host after', async () => {
    const { fake } = await converges('apt', { deb: 'hello.deb' }, (f) => {
      mkdirSync(join(f.dir, 'files'));
      writeFileSync(join(f.dir, 'files', 'hello.deb'), 'Package: tsplay-hello\nVersion: 1.0\nArchitecture: all\n');
    }, installed);
    assert.match(installed(fake), /^tsplay-hello 1\.0$/m);
    const install = fake.calls().find((c) => /install \/tmp\/\.tsplay-pkg\.[0-9a-f]+\/hello\.deb$/.test(c) && !/ -s /.test(c));
    assert.ok(install, fake.calls().join('\n'));
    assert.equal(existsSync(install!.split(' ').pop()!), false, 'the staged copy is gone');
    const missing = await run('apt', { deb: 'nope.deb' }, context(fake));
    assert.equal(missing.failed, true);
    assert.match(String(missing.msg), /nope\.deb was found neither on the host nor on the controller/);
  });

  test('parseSimulation reads installs, upgrades, removals and purges', () => {
    const sim = parseSimulation('NOTE: This is only a simulation!\nInst a (1.0 Debian:12/stable [amd64])\nInst b [1.0] (2.0 Debian [all])\nConf a (1.0 Debian)\nRemv c [3.0]\nPurg d\n');
    assert.deepEqual([...sim.before], [['a', undefined], ['b', '1.0'], ['c', '3.0'], ['d', '(config files)']]);
    assert.deepEqual([...sim.after], [['a', '1.0'], ['b', '2.0'], ['c', undefined], ['d', undefined]]);
  });
});

// ---------------------------------------------------------------- dnf / yum / package

describe('dnf and yum (fake dnf, yum and rpm: no real dnf runs here)', () => {
  const archive = 'nginx 1.20.1-1.el9.x86_64\nhtop 3.2.1-1.el9.x86_64\n';
  const installed = (f: Fake) => f.read('installed');

  for (const tool of ['dnf', 'yum']) {
    test(`${tool}: present installs the missing package with the version it will get`, async () => {
      const { fake, real } = await converges(tool, { name: ['nginx', 'htop'] }, (f) => {
        f.write('archive', archive);
        f.write('installed', 'htop 3.2.1-1.el9.x86_64\n');
      }, installed);
      assert.deepEqual([real.diff![0]!.before, real.diff![0]!.after], ['', 'nginx 1.20.1-1.el9.x86_64\n']);
      assert.ok(fake.calls().includes(`${tool} -y install -- nginx`), fake.calls().join('\n'));
    });
  }

  test('dnf: latest upgrades, absent removes, an unknown name fails', async () => {
    const up = await converges('dnf', { name: 'nginx', state: 'latest' }, (f) => {
      f.write('archive', archive);
      f.write('installed', 'nginx 1.18.0-1.el9.x86_64\n');
    }, installed);
    assert.deepEqual([up.real.diff![0]!.before, up.real.diff![0]!.after], ['nginx 1.18.0-1.el9.x86_64\n', 'nginx 1.20.1-1.el9.x86_64\n']);
    assert.ok(up.fake.calls().includes('dnf -y upgrade -- nginx'));

    const gone = await converges('dnf', { name: 'nginx', state: 'absent' }, (f) => f.write('installed', 'nginx 1.18.0-1.el9.x86_64\n'), installed);
    assert.equal(installed(gone.fake), '');

    const fake = fakeHost();
    fake.write('archive', archive);
    const res = await run('dnf', { name: 'nosuch' }, context(fake, { check: true }));
    assert.equal(res.failed, true);
    assert.equal(res.msg, 'No package nosuch available.');
  });

  test('parsePackageList reads name.arch version repo lines', () => {
    const list = parsePackageList('Last metadata expiration check: 0:01:02 ago.\nAvailable Packages\nnginx.x86_64  1:1.20.1-14.el9  appstream\n');
    assert.equal(list.get('nginx'), '1.20.1-14.el9.x86_64');
    assert.equal(list.get('nginx.x86_64'), '1.20.1-14.el9.x86_64');
  });

  test('package: the host\'s ansible_pkg_mgr chooses the backend; without facts a probe does', async () => {
    const fake = fakeHost();
    fake.write('archive', 'nginx 1.0 \n'.replace(' \n', '\n'));
    const viaFacts = await run('package', { name: 'nginx', state: 'present' }, context(fake, { check: true, facts: { pkg_mgr: 'dnf' } }));
    assert.equal(viaFacts.failed, undefined, String(viaFacts.msg));
    assert.ok(fake.calls().some((c) => c.startsWith('dnf ')), 'dnf was used');
    const probed = fakeHost();
    probed.write('archive', 'sl 5.02-1\n');
    const viaProbe = await run('package', { name: 'sl', state: 'present' }, context(probed));
    assert.equal(viaProbe.changed, true);
    assert.ok(probed.calls().some((c) => c.startsWith('apt-get ')), 'apt-get comes first on PATH here');
    const bad = await run('package', { name: 'sl', state: 'present', use: 'pacman' }, context(probed));
    assert.equal(bad.failed, true);
  });
});

// ---------------------------------------------------------------- systemd / service

describe('systemd and service (fake systemctl: no systemd runs here)', () => {
  const unit = (f: Fake, name: string, files: string[] = []) => {
    mkdirSync(join(f.dir, 'units', name), { recursive: true });
    for (const file of files) writeFileSync(join(f.dir, 'units', name, file), '');
  };
  const unitState = (f: Fake) => ['active', 'enabled'].map((m) => `${m}=${existsSync(join(f.dir, 'units', 'web.service', m))}`).join(' ');

  test('started + enabled: one round trip of changes, diff of state and enabled, ok the second time', async () => {
    const { fake, real } = await converges('systemd', { name: 'web.service', state: 'started', enabled: true, daemon_reload: true }, (f) => unit(f, 'web.service'), unitState);
    assert.equal(unitState(fake), 'active=true enabled=true');
    assert.deepEqual(real.diff, [{ before: 'name: web.service\nstate: stopped\nenabled: false\n', after: 'name: web.service\nstate: started\nenabled: true\n', beforeHeader: 'web.service (before)', afterHeader: 'web.service (after)' }]);
    assert.equal(real.state, 'started');
    assert.deepEqual(real.status, { LoadState: 'loaded', ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'disabled' });
    const calls = fake.calls().filter((c) => !/ (show|is-enabled) /.test(c));
    assert.deepEqual(calls.slice(0, 3), ['systemctl daemon-reload', 'systemctl enable -- web.service', 'systemctl start -- web.service']);
  });

  test('restarted and reloaded always change; stopped stops; the service module uses systemd from the facts', async () => {
    const fake = fakeHost();
    unit(fake, 'web.service', ['active']);
    const restarted = await run('systemd', { name: 'web.service', state: 'restarted' }, context(fake));
    assert.equal(restarted.changed, true);
    assert.equal(restarted.diff, undefined, 'a running service restarted: no state change to show');
    const again = await run('systemd', { name: 'web.service', state: 'reloaded' }, context(fake));
    assert.equal(again.changed, true);
    assert.equal(readFileSync(join(fake.dir, 'units', 'web.service', 'log'), 'utf8'), 'restart\nreload\n');
    const stopped = await run('service', { name: 'web.service', state: 'stopped' }, context(fake, { facts: { service_mgr: 'systemd' } }));
    assert.equal(stopped.changed, true);
    assert.equal(existsSync(join(fake.dir, 'units', 'web.service', 'active')), false);
  });

  test('a missing unit and a failing start are reported like Ansible', async () => {
    const fake = fakeHost();
    const missing = await run('systemd', { name: 'nope.service', state: 'started' }, context(fake));
    assert.equal(missing.failed, true);
    assert.equal(missing.msg, 'Could not find the requested service nope.service: host');
    unit(fake, 'bad.service', ['broken']);
    const broken = await run('systemd', { name: 'bad.service', state: 'started' }, context(fake));
    assert.equal(broken.failed, true);
    assert.match(String(broken.msg), /^Unable to start service bad\.service: Job for bad\.service failed/);
    assert.equal(broken.cmd, 'systemctl start -- bad.service');
    assert.equal(broken.rc, 1);
  });

  test('without systemd as PID 1 the real systemctl says why', async (t) => {
    if (existsSync('/run/systemd/system') || !existsSync('/usr/bin/systemctl')) return t.skip('needs systemctl without a running systemd');
    const conn = new LocalConnection('localhost');
    const ctx = { ...context(fakeHost()), ops: new HostOps(conn) };
    const res = await run('systemd', { name: 'ssh', state: 'started' }, ctx);
    assert.equal(res.failed, true);
    assert.match(String(res.msg), /System has not been booted with systemd|Failed to connect to bus/);
  });
});

// ---------------------------------------------------------------- load-time validation

describe('bad arguments fail at load with file:line', () => {
  const opts = { lookupModule: (n: string) => lookupModule(n), moduleNames: moduleNames() };
  const cases: Array<[string, RegExp]> = [
    ['apt:\n        name: sl\n        state: installd\n', /apt: argument 'state'/],
    ['apt:\n        name: sl\n        purgee: true\n', /apt: unknown argument 'purgee'/],
    ['apt:\n        cache_valid_time: soon\n', /apt: argument 'cache_valid_time'/],
    ['dnf:\n        name: [1, 2]\n        state: latest\n        bogus: 1\n', /dnf: unknown argument 'bogus'/],
    ['service:\n        state: started\n', /service: missing required argument 'name'/],
    ['systemd:\n        name: x\n        state: running\n', /systemd: argument 'state'/],
    ['package:\n        name: sl\n', /package: missing required argument 'state'/],
  ];
  for (const [taskText, message] of cases) {
    test(taskText.split('\n')[0]! + ' ' + message.source, () => {
      const dir = makeTempDir('tsplay-pkgload-');
      const file = join(dir, 'play.yml');
      writeFileSync(file, `- hosts: all\n  tasks:\n    - ${taskText}`);
      let errors: ParseError[] = [];
      try {
        loadPlaybook(file, opts);
      } catch (err) {
        assert.ok(err instanceof ParseError, String(err));
        errors = err instanceof ParseErrors ? err.errors : [err];
      }
      assert.ok(errors.length > 0, 'the load failed');
      assert.ok(errors.some((e) => message.test(e.message)), errors.map((e) => e.message).join('\n'));
      const err = errors.find((e) => message.test(e.message))!;
      assert.equal(err.pos?.file, file);
      assert.ok((err.pos?.line ?? 0) >= 3, `line ${err.pos?.line}`);
    });
  }

  test('every module of the group is registered under its Ansible names', () => {
    for (const name of ['apt', 'ansible.builtin.apt', 'dnf', 'yum', 'package', 'ansible.builtin.package', 'service', 'systemd', 'systemd_service', 'ansible.builtin.systemd_service']) {
      assert.ok(lookupModule(name), name);
    }
  });
});
