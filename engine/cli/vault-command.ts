// `tsplay vault encrypt|decrypt|view|edit|rekey|encrypt_string|create`: ansible-vault's
// commands and flags. Files are rewritten atomically (same mode); edit works on a 0600 copy
// in a private temp dir that is wiped afterwards. tsplay's format is the default; `--format
// ansible` writes Ansible Vault 1.1/1.2 so ansible-vault can read it.
import { Command, Option } from 'commander';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { ExitCode } from '../errors.js';
import { VaultError } from '../vault/errors.js';
import { encryptVault, isVaultText, DEFAULT_VAULT_ID, type VaultFormat } from '../vault/envelope.js';
import { VaultKeyring, type VaultSecret } from '../vault/keyring.js';
import { loadVaultSecrets, parseVaultIdSpec, vaultIdSpecs, type VaultFlags, type VaultIdSpec } from '../vault/vault-ids.js';
import { writeFileAtomic } from '../vault/atomic-file.js';
import { closePrompts, promptSecret } from './prompt-secret.js';

interface CommonFlags extends VaultFlags {
  format?: VaultFormat;
  output?: string;
  encryptVaultId?: string;
}

interface RekeyFlags extends CommonFlags {
  newVaultId?: string;
  newVaultPasswordFile?: string;
}

interface EncryptStringFlags extends CommonFlags {
  prompt?: boolean;
  name?: string[];
  stdinName?: string;
}

const STDIO = '-';
const collect = (value: string, previous: string[] = []) => [...previous, value];

function withVaultOptions(cmd: Command, opts: { output?: boolean; encrypt?: boolean; format?: boolean } = {}): Command {
  cmd
    .option('--vault-id <label@source>', "the vault id and its password source: a file, an executable script or 'prompt' (repeatable)", collect)
    .option('--vault-password-file <file>', 'vault password file, or an executable script printing it (repeatable)', collect)
    .option('-J, --ask-vault-pass', 'ask for the vault password');
  if (opts.output) cmd.option('--output <file>', "write the result to this file ('-' for standard output)");
  if (opts.encrypt) cmd.option('--encrypt-vault-id <id>', 'the vault id to encrypt with (required when several are given)');
  if (opts.format) cmd.addOption(new Option('--format <format>', 'vault format to write').choices(['tsplay', 'ansible']));
  return cmd;
}

export function registerVaultCommand(program: Command): void {
  const vault = program.command('vault').description('encrypt and decrypt secrets (like ansible-vault; reads and writes Ansible Vault 1.1/1.2)');
  const run = <A extends unknown[]>(fn: (...args: A) => Promise<number>) => async (...args: A) => {
    process.exitCode = await fn(...args);
  };

  withVaultOptions(vault.command('encrypt').description('encrypt files in place (standard input to standard output without files)').argument('[file...]'), { output: true, encrypt: true, format: true })
    .action(run(encryptCommand));
  withVaultOptions(vault.command('decrypt').description('decrypt files in place (standard input to standard output without files)').argument('[file...]'), { output: true })
    .action(run(decryptCommand));
  withVaultOptions(vault.command('view').description('print the decrypted content of vault files').argument('<file...>'))
    .action(run(viewCommand));
  withVaultOptions(vault.command('edit').description('decrypt a file into $EDITOR and encrypt it again when the editor exits').argument('<file...>'), { encrypt: true })
    .action(run(editCommand));
  withVaultOptions(vault.command('create').description('create a new encrypted file with $EDITOR').argument('<file>'), { encrypt: true, format: true })
    .action(run(createCommand));
  withVaultOptions(vault.command('rekey').description('re-encrypt files with a new password').argument('<file...>'), { encrypt: true, format: true })
    .option('--new-vault-id <label@source>', 'the new vault id and its password source')
    .option('--new-vault-password-file <file>', 'the new vault password file')
    .action(run(rekeyCommand));
  withVaultOptions(vault.command('encrypt_string').description('encrypt a string into a `!vault |` YAML value').argument('[string...]'), { output: true, encrypt: true, format: true })
    .option('-p, --prompt', 'prompt for the string to encrypt')
    .option('-n, --name <name>', 'variable name for the next string (repeatable)', collect)
    .option('--stdin-name <name>', 'variable name for the string read from standard input')
    .action(run(encryptStringCommand));
}

/** The passwords named by the flags; with none, ask (as ansible-vault does). */
async function keyringFor(flags: VaultFlags, creating: boolean): Promise<VaultKeyring> {
  let specs = vaultIdSpecs(flags);
  if (specs.length === 0) specs = [{ id: DEFAULT_VAULT_ID, source: 'prompt' }];
  return new VaultKeyring(await readSecrets(specs, creating));
}

async function readSecrets(specs: VaultIdSpec[], creating: boolean, promptLabel?: string): Promise<VaultSecret[]> {
  try {
    return await loadVaultSecrets(specs, { prompt: promptSecret, confirmNew: creating, ...(promptLabel ? { promptLabel } : {}) });
  } finally {
    if (specs.some((s) => s.source === 'prompt')) closePrompts();
  }
}

function formatOf(flags: CommonFlags): VaultFormat {
  return flags.format ?? 'tsplay';
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new VaultError(e.code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${e.message}`, undefined, ExitCode.error);
  }
}

/** Result of a command: in place, to --output, or to stdout for standard input. */
function writeOutput(target: string, data: Buffer | string): void {
  if (target === STDIO) process.stdout.write(data);
  else writeFileAtomic(target, data);
}

function successNote(text: string): void {
  if (process.stdout.isTTY) process.stderr.write(`${text}\n`);
}

function checkOneOutput(files: string[], flags: CommonFlags): void {
  if (flags.output !== undefined && files.length > 1) throw new VaultError('At most one input file may be used with the --output option', undefined, ExitCode.options);
}

async function encryptCommand(files: string[], flags: CommonFlags): Promise<number> {
  checkOneOutput(files, flags);
  const keyring = await keyringFor(flags, true);
  const secret = keyring.encryptSecret(flags.encryptVaultId);
  const inputs = files.length > 0 ? files : [STDIO];
  for (const file of inputs) {
    const data = file === STDIO ? await readStdin() : readInput(file);
    if (isVaultText(data.toString('latin1'))) throw new VaultError(`input is already encrypted${file === STDIO ? '' : `: ${file}`}`, undefined, ExitCode.error);
    const text = await encryptVault(data, secret.password, { format: formatOf(flags), vaultId: secret.id });
    writeOutput(flags.output ?? file, text);
  }
  successNote('Encryption successful');
  return ExitCode.ok;
}

/** Decrypt or fail naming the file: not vault data, or no password that opens it. */
async function decryptFile(keyring: VaultKeyring, file: string, data: Buffer): Promise<{ plaintext: Buffer; vaultId: string; format: VaultFormat }> {
  const text = data.toString('utf8');
  const label = file === STDIO ? 'standard input' : file;
  if (!isVaultText(text)) throw new VaultError(`input is not vault encrypted data. ${label} is not a vault encrypted file`);
  const result = await keyring.decrypt(text, { file: label });
  return { plaintext: result.plaintext, vaultId: result.header.vaultId ?? result.vaultId, format: result.header.format };
}

async function decryptCommand(files: string[], flags: CommonFlags): Promise<number> {
  checkOneOutput(files, flags);
  const inputs = files.length > 0 ? files : [STDIO];
  // read and check everything first: a bad file or password changes nothing
  const datas = inputs.map((f) => (f === STDIO ? undefined : readInput(f)));
  const keyring = await keyringFor(flags, false);
  const outputs: Array<{ target: string; plaintext: Buffer }> = [];
  for (const [i, file] of inputs.entries()) {
    const data = datas[i] ?? (await readStdin());
    const { plaintext } = await decryptFile(keyring, file, data);
    outputs.push({ target: flags.output ?? file, plaintext });
  }
  for (const { target, plaintext } of outputs) writeOutput(target, plaintext);
  successNote('Decryption successful');
  return ExitCode.ok;
}

async function viewCommand(files: string[], flags: CommonFlags): Promise<number> {
  const keyring = await keyringFor(flags, false);
  for (const file of files) {
    const { plaintext } = await decryptFile(keyring, file, readInput(file));
    process.stdout.write(plaintext);
  }
  return ExitCode.ok;
}

async function rekeyCommand(files: string[], flags: RekeyFlags): Promise<number> {
  const datas = files.map(readInput);
  const keyring = await keyringFor(flags, false);
  let newSpec: VaultIdSpec;
  if (flags.newVaultId !== undefined) newSpec = parseVaultIdSpec(flags.newVaultId);
  else newSpec = { id: flags.encryptVaultId ?? DEFAULT_VAULT_ID, source: flags.newVaultPasswordFile ?? 'prompt' };
  const [newSecret] = await readSecrets([newSpec], true, 'New Vault password');
  const rewritten: Array<{ file: string; text: string }> = [];
  for (const [i, file] of files.entries()) {
    const { plaintext, format } = await decryptFile(keyring, file, datas[i]!);
    rewritten.push({ file, text: await encryptVault(plaintext, newSecret!.password, { format: flags.format ?? format, vaultId: newSecret!.id }) });
  }
  for (const { file, text } of rewritten) writeFileAtomic(file, text);
  process.stderr.write('Rekey successful\n');
  return ExitCode.ok;
}

async function encryptStringCommand(strings: string[], flags: EncryptStringFlags): Promise<number> {
  const keyring = await keyringFor(flags, true);
  const secret = keyring.encryptSecret(flags.encryptVaultId);
  const args = strings.filter((s) => s !== STDIO);
  const plaintexts: Array<{ text: Buffer; name?: string; from: string }> = [];
  if (flags.prompt) {
    const name = await promptSecret('Variable name (enter for no name): ');
    const text = await promptSecret('String to encrypt (hidden): ');
    closePrompts();
    if (text === '') throw new VaultError('The plaintext provided from the prompt was empty, not encrypting', undefined, ExitCode.options);
    plaintexts.push({ text: Buffer.from(text, 'utf8'), ...(name ? { name } : {}), from: 'the prompt' });
  }
  // as ansible-vault: '-', no string at all, or --stdin-name means "read standard input"
  if (strings.includes(STDIO) || (!flags.prompt && args.length === 0) || flags.stdinName !== undefined) {
    if (process.stdout.isTTY) process.stderr.write('Reading plaintext input from stdin. (ctrl-d to end input, twice if your content does not already have a newline)\n');
    const text = await readStdin();
    if (text.length === 0) throw new VaultError('stdin was empty, not encrypting', undefined, ExitCode.options);
    plaintexts.push({ text, ...(flags.stdinName ? { name: flags.stdinName } : {}), from: 'stdin' });
  }
  const names = flags.name ?? [];
  args.forEach((arg, i) => {
    if (arg === '') throw new VaultError('The plaintext provided from the command line args was empty, not encrypting', undefined, ExitCode.options);
    plaintexts.push({ text: Buffer.from(arg, 'utf8'), ...(names[i] !== undefined ? { name: names[i] } : {}), from: 'the command line args' });
  });
  if (names.length > 0 && args.length > names.length) {
    process.stderr.write(`The number of --name options do not match the number of args.\nThe last named variable will be "${names[names.length - 1]}". The rest will not have names.\n`);
  }
  const blocks: string[] = [];
  for (const [i, p] of plaintexts.entries()) {
    if (plaintexts.length > 1) {
      process.stderr.write(p.name ? `# The encrypted version of variable ("${p.name}", the string #${i + 1} from ${p.from}).\n` : `# The encrypted version of the string #${i + 1} from ${p.from}.)\n`);
    }
    const text = await encryptVault(p.text, secret.password, { format: formatOf(flags), vaultId: secret.id });
    blocks.push(vaultYamlBlock(text, p.name));
  }
  writeOutput(flags.output ?? STDIO, blocks.join('\n') + '\n');
  successNote('Encryption successful');
  return ExitCode.ok;
}

/** `name: !vault |` and the envelope indented by 10 (ansible-vault's layout). */
export function vaultYamlBlock(envelope: string, name?: string): string {
  const lines = [`${name ? `${name}: ` : ''}!vault |`, ...envelope.split('\n').filter((l) => l !== '').map((l) => ' '.repeat(10) + l)];
  return lines.join('\n');
}

async function createCommand(file: string, flags: CommonFlags): Promise<number> {
  if (existsSync(file)) throw new VaultError(`${file} exists, please use 'edit' instead`, undefined, ExitCode.error);
  const keyring = await keyringFor(flags, true);
  const secret = keyring.encryptSecret(flags.encryptVaultId);
  const content = editInPrivateDir(path.basename(file), Buffer.alloc(0));
  writeFileAtomic(file, await encryptVault(content, secret.password, { format: formatOf(flags), vaultId: secret.id }));
  return ExitCode.ok;
}

async function editCommand(files: string[], flags: CommonFlags): Promise<number> {
  const keyring = await keyringFor(flags, false);
  for (const file of files) {
    const { plaintext, vaultId, format } = await decryptFile(keyring, file, readInput(file));
    const edited = editInPrivateDir(path.basename(file), plaintext);
    if (edited.equals(plaintext)) continue; // unchanged: keep the file (and its ciphertext) as it was
    // encrypt again under the id the file had, unless --encrypt-vault-id picks another
    const id = flags.encryptVaultId ?? vaultId;
    const secret = keyring.secrets.find((s) => s.id === id) ?? keyring.encryptSecret();
    writeFileAtomic(file, await encryptVault(edited, secret.password, { format, vaultId: secret.id }));
  }
  return ExitCode.ok;
}

/**
 * Run $EDITOR on a 0600 copy inside a fresh 0700 directory; return what was saved. The copy
 * is overwritten with zeros and removed whatever happens.
 */
function editInPrivateDir(name: string, content: Buffer): Buffer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-vault-'));
  const file = path.join(dir, name);
  try {
    writeFileSync(file, content, { mode: 0o600 });
    const editor = (process.env.EDITOR || process.env.VISUAL || 'vi').trim().split(/\s+/);
    const result = spawnSync(editor[0]!, [...editor.slice(1), file], { stdio: 'inherit' });
    if (result.error) throw new VaultError(`cannot run the editor '${editor[0]}': ${result.error.message}`, undefined, ExitCode.error);
    if (result.status !== 0) throw new VaultError(`the editor '${editor[0]}' exited with ${result.status ?? result.signal}; nothing was changed`, undefined, ExitCode.error);
    return readFileSync(file);
  } finally {
    try {
      writeFileSync(file, Buffer.alloc(statSync(file).size));
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
