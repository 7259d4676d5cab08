// Where vault passwords come from, as ansible's --vault-id label@source, --vault-password-file
// and --ask-vault-pass give them: a file (first line, whitespace stripped), an executable
// script printing the password (a "*-client" script is asked for one vault id), or a prompt.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ExitCode } from '../errors.js';
import { VaultError } from './errors.js';
import { checkVaultId, DEFAULT_VAULT_ID } from './envelope.js';
import { VaultKeyring, type VaultSecret } from './keyring.js';
import { registerSecret } from './secrets.js';

export interface VaultIdSpec {
  id: string;
  /** "prompt" or a path (file or executable script). */
  source: string;
}

/** The vault flags of a command, as given. */
export interface VaultFlags {
  vaultId?: string[];
  vaultPasswordFile?: string[];
  askVaultPass?: boolean;
}

export interface SecretSourceOptions {
  /** Reads a password without echo (the CLI's promptSecret). */
  prompt: (text: string) => Promise<string>;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** For commands that create vault data: prompts ask twice and must match. */
  confirmNew?: boolean;
  /** Prompt wording: "New Vault password" for rekey's new password. */
  promptLabel?: string;
}

/** `label@source` or a bare source (label "default"), as ansible splits it (at the first '@'). */
export function parseVaultIdSpec(spec: string): VaultIdSpec {
  const at = spec.indexOf('@');
  const id = at >= 0 ? spec.slice(0, at) : DEFAULT_VAULT_ID;
  const source = at >= 0 ? spec.slice(at + 1) : spec;
  if (source === '') throw new VaultError(`--vault-id '${spec}': no password source after '@' (a file, a script or 'prompt')`, undefined, ExitCode.options);
  try {
    checkVaultId(id);
  } catch (err) {
    throw new VaultError((err as Error).message, undefined, ExitCode.options);
  }
  return { id, source };
}

/**
 * The sources a command's flags name, in order: --vault-id, --vault-password-file,
 * --ask-vault-pass, then TSPLAY_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_PASSWORD_FILE.
 */
export function vaultIdSpecs(flags: VaultFlags, env: NodeJS.ProcessEnv = process.env): VaultIdSpec[] {
  const specs = (flags.vaultId ?? []).map(parseVaultIdSpec);
  for (const file of flags.vaultPasswordFile ?? []) specs.push({ id: DEFAULT_VAULT_ID, source: file });
  if (flags.askVaultPass) specs.push({ id: DEFAULT_VAULT_ID, source: 'prompt' });
  for (const name of ['TSPLAY_VAULT_PASSWORD_FILE', 'ANSIBLE_VAULT_PASSWORD_FILE']) {
    const file = env[name];
    if (file && !specs.some((s) => s.source === file)) specs.push({ id: DEFAULT_VAULT_ID, source: file });
  }
  return specs;
}

/** Read every password the specs name (prompting, reading files, running scripts). */
export async function loadVaultSecrets(specs: readonly VaultIdSpec[], opts: SecretSourceOptions): Promise<VaultSecret[]> {
  const out: VaultSecret[] = [];
  for (const spec of specs) {
    const password = await readPassword(spec, opts);
    registerSecret(password.toString('utf8'));
    out.push({ id: spec.id, password, source: spec.source === 'prompt' ? 'prompt' : spec.source });
  }
  return out;
}

/** The keyring for a command's vault flags. */
export async function keyringFromFlags(flags: VaultFlags, opts: SecretSourceOptions): Promise<VaultKeyring> {
  return new VaultKeyring(await loadVaultSecrets(vaultIdSpecs(flags, opts.env), opts));
}

async function readPassword(spec: VaultIdSpec, opts: SecretSourceOptions): Promise<Buffer> {
  if (spec.source === 'prompt') return promptPassword(spec.id, opts);
  const file = path.resolve(opts.cwd ?? process.cwd(), spec.source);
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new VaultError(`The vault password file ${file} was not found`, undefined, ExitCode.options);
  }
  if (!isFile) throw new VaultError(`The vault password file ${file} is not a file`, undefined, ExitCode.options);
  const password = isExecutable(file) ? await runPasswordScript(file, spec.id) : readPasswordFile(file);
  if (password.length === 0) {
    throw new VaultError(`Invalid vault password was provided from ${isExecutable(file) ? 'script' : 'file'} (${file})`, undefined, ExitCode.options);
  }
  return password;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function readPasswordFile(file: string): Buffer {
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
  } catch (err) {
    throw new VaultError(`Could not read vault password file ${file}: ${(err as Error).message}`, undefined, ExitCode.options);
  }
}

/** A script prints the password; "NAME-client[.ext]" scripts get `--vault-id ID` (Ansible's client scripts). */
function runPasswordScript(file: string, id: string): Promise<Buffer> {
  const client = path.basename(file, path.extname(file)).endsWith('-client');
  const args = client ? ['--vault-id', id] : [];
  return new Promise((resolve, reject) => {
    // stdin and stderr stay the terminal's, so a script can prompt the user itself
    const child = spawn(file, args, { stdio: ['inherit', 'pipe', client ? 'pipe' : 'inherit'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new VaultError(`Problem running vault password script ${file} (${e.message}). If this is not a script, remove the executable bit from the file.`, undefined, ExitCode.options)));
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (client && code === 2) return reject(new VaultError(`Vault password client script ${file} did not find a secret for vault-id=${id}: ${stderr}`, undefined, ExitCode.options));
      if (code !== 0) return reject(new VaultError(`Vault password script ${file} returned non-zero (${code})${stderr ? `: ${stderr}` : ''}`, undefined, ExitCode.options));
      resolve(Buffer.from(Buffer.concat(out).toString('utf8').replace(/^[\r\n]+|[\r\n]+$/g, ''), 'utf8'));
    });
  });
}

async function promptPassword(id: string, opts: SecretSourceOptions): Promise<Buffer> {
  const label = opts.promptLabel ?? (opts.confirmNew ? 'New Vault password' : 'Vault password');
  const suffix = id === DEFAULT_VAULT_ID ? '' : ` (${id})`;
  const first = (await opts.prompt(`${label}${suffix}: `)).trim();
  if (first === '') throw new VaultError('Invalid vault password was provided from prompt', undefined, ExitCode.options);
  if (opts.confirmNew) {
    const second = (await opts.prompt(`Confirm ${label}${suffix}: `)).trim();
    if (second !== first) throw new VaultError('Passwords do not match', undefined, ExitCode.options);
  }
  return Buffer.from(first, 'utf8');
}
