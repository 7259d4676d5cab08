// `tsplay role init|doc|run`: make a role skeleton, show a role's variables from its argument
// specs (like `ansible-doc -t role`), and run one role without writing a playbook.
import { Command, Option } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { TsplayError } from '../errors.js';
import { resolveRole } from '../load/role-path.js';
import { loadProjectConfig } from '../config/project-config.js';
import { loadArgumentSpecs, parseArgumentSpecs } from '../roles/argument-specs.js';
import { renderRoleDoc, roleDocJson } from '../roles/role-doc.js';
import { scaffoldRole } from '../roles/scaffold.js';
import { registerRunCommand, runCommand, type RunFlags } from './run-command.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface LookupFlags {
  rolesPath?: string[];
  config?: string;
}

/** Find a role by name or path as a playbook beside the current directory would. */
function findRole(nameOrPath: string, flags: LookupFlags): { name: string; dir: string } {
  const cwd = process.cwd();
  const rolesPath = flags.rolesPath?.flatMap((p) => p.split(':')).filter(Boolean)
    ?? loadProjectConfig({ cwd, ...(flags.config !== undefined ? { configFile: flags.config } : {}) }).rolesPath;
  const found = resolveRole(nameOrPath, { cwd, playbookDir: cwd, ...(rolesPath ? { rolesPath } : {}) });
  if (!found) {
    throw new TsplayError('FILE_NOT_FOUND', `the role '${nameOrPath}' was not found in ./roles, the current folder, the roles path (--roles-path, TSPLAY_ROLES_PATH / ANSIBLE_ROLES_PATH, roles_path in tsplay.config.yaml) or node_modules`);
  }
  return found;
}

export function registerRoleCommand(program: Command): void {
  const role = program.command('role').description('create, document and run roles (like ansible-galaxy role init and ansible-doc -t role)');

  role
    .command('init')
    .description("create a role skeleton in Ansible's layout, with meta/argument_specs.yml and a README generated from it")
    .argument('<name>', 'role name')
    .option('-p, --path <dir>', 'folder to create the role in (default: the current folder)')
    .action((name: string, flags: { path?: string }) => {
      const result = scaffoldRole(name, flags.path !== undefined ? { path: flags.path } : {});
      process.stdout.write(`- Role ${name} was created successfully in ${result.roleDir}\n`);
    });

  role
    .command('doc')
    .description("show a role's entry points and variables from its argument specs (like ansible-doc -t role)")
    .argument('<role>', 'role name (searched like a playbook in this folder would) or path to a role folder')
    .option('--json', 'print JSON (the shape of ansible-doc --json)')
    .option('-r, --roles-path <dirs>', 'folders to search for roles (colon-separated, repeatable)', collect)
    .option('--config <file>', 'project config file (for roles_path)')
    .action((nameOrPath: string, flags: LookupFlags & { json?: boolean }) => {
      const found = findRole(nameOrPath, flags);
      const loaded = loadArgumentSpecs(found.dir);
      if (!loaded) {
        throw new TsplayError('FILE_NOT_FOUND', `the role '${found.name}' (${found.dir}) has no argument specs: write meta/argument_specs.yml to document its variables`);
      }
      const doc = { name: found.name, dir: found.dir, entryPoints: parseArgumentSpecs(loaded.specs, loaded.specFile) };
      process.stdout.write(flags.json ? JSON.stringify(roleDocJson(doc), null, 2) + '\n' : renderRoleDoc(doc));
    });

  const run = role
    .command('run')
    .description('run one role on the hosts of an inventory, without a playbook (a play `hosts: all` with `roles: [ROLE]`)')
    .argument('<role>', 'role name or path to a role folder');
  // every option of `tsplay run`, so the two commands never drift apart
  const template = new Command();
  registerRunCommand(template);
  const runOptions = template.commands.find((c) => c.name() === 'run')?.options ?? [];
  for (const option of runOptions) run.addOption(option);
  run
    .addOption(new Option('--hosts <pattern>', 'hosts of the play (default: all)'))
    .addOption(new Option('-b, --become', 'run the role with become (sudo by default)'))
    .addOption(new Option('--become-user <user>', 'user to become (default root)'))
    .addOption(new Option('--become-method <method>', 'sudo or su').choices(['sudo', 'su']))
    .addOption(new Option('-u, --user <user>', 'connect as this user (the play\'s remote_user)'))
    .addOption(new Option('-c, --connection <type>', 'connection type for every host (ssh, local)'))
    .addOption(new Option('--no-gather-facts', "don't gather facts at the start of the play"))
    .addOption(new Option('-r, --roles-path <dirs>', 'folders to search for roles (colon-separated, repeatable)').argParser(collect))
    .action(async (nameOrPath: string, flags: RoleRunFlags) => {
      process.exitCode = await runRole(nameOrPath, flags);
    });
}

interface RoleRunFlags extends RunFlags, LookupFlags {
  hosts?: string;
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: string;
  user?: string;
  connection?: string;
  gatherFacts: boolean;
}

/** The one-play playbook `role run` executes. */
function rolePlay(role: { name: string; dir: string }, flags: Omit<RoleRunFlags, keyof RunFlags | keyof LookupFlags>): unknown[] {
  const play: Record<string, unknown> = { name: `role ${role.name}`, hosts: flags.hosts ?? 'all' };
  if (!flags.gatherFacts) play.gather_facts = false;
  if (flags.become) play.become = true;
  if (flags.becomeUser !== undefined) play.become_user = flags.becomeUser;
  if (flags.becomeMethod !== undefined) play.become_method = flags.becomeMethod;
  if (flags.user !== undefined) play.remote_user = flags.user;
  if (flags.connection !== undefined) play.connection = flags.connection;
  // By path, so the loader finds exactly the role found here; a path whose last part is the
  // name keeps the role's name (TASK [name : …]). A role from an npm package keeps its name.
  play.roles = [basename(role.dir) === role.name ? role.dir : role.name];
  return [play];
}

async function runRole(nameOrPath: string, flags: RoleRunFlags): Promise<number> {
  const role = findRole(nameOrPath, flags);
  // The loader reads playbooks from files: the play goes in a temp file, removed afterwards.
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-role-run-'));
  try {
    const playbook = join(dir, `${role.name}.yml`);
    writeFileSync(playbook, stringify(rolePlay(role, flags)));
    // a retry file beside a temp playbook would vanish with it
    return await runCommand([playbook], { ...flags, retryFiles: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
