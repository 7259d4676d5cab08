// File modes as Ansible reads them: an integer (YAML 1.1 reads 0644 as 420), an octal
// string ('0644', '644', '1777'), or a symbolic one ('u=rw,g=r,o=r', 'u+x', 'a-w', 'g=u').
// Symbolic modes are resolved here against the current mode (Ansible's
// _symbolic_mode_to_octal), so check mode predicts exactly the bits chmod will get.

/** A mode argument could not be understood; the message is Ansible's. */
export class ModeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModeError';
  }
}

export type ModeSpec = number | string;

/** JSON Schema for a mode argument. */
export const MODE_SCHEMA = { type: ['integer', 'string'] } as const;

const PERM_BITS = 0o7777;

/**
 * The mode bits a spec asks for. `current` is the path's present mode (for a file about to be
 * created: what it will get, 0666 & ~umask; a folder 0777 & ~umask); `umask` is used when a
 * symbolic clause names no users, as chmod does.
 */
export function resolveMode(spec: ModeSpec, current: number, isDir: boolean, umask = 0o022): number {
  let mode: number;
  if (typeof spec === 'number') {
    mode = spec;
  } else if (/^[0-7]+$/.test(spec.trim())) {
    mode = parseInt(spec.trim(), 8);
  } else {
    mode = symbolicToOctal(spec, current & PERM_BITS, isDir, umask);
  }
  if (!Number.isInteger(mode) || mode < 0 || mode !== (mode & PERM_BITS)) {
    throw new ModeError(`Invalid mode supplied, only permission info is allowed: ${String(spec)}`);
  }
  return mode;
}

/** '0644' — how Ansible returns modes. */
export function formatMode(mode: number): string {
  return (mode & PERM_BITS).toString(8).padStart(4, '0');
}

const MASKS: Record<'u' | 'g' | 'o', number> = { u: 0o4700, g: 0o2070, o: 0o1007 };

function symbolicToOctal(spec: string, start: number, isDir: boolean, umask: number): number {
  let mode = start;
  for (const clause of spec.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(clause);
    if (!m) throw new ModeError(`mode must be in octal or symbolic form: bad symbolic permission for mode: ${clause}`);
    const who = m[1]!;
    const useUmask = who === '';
    const users = (who === '' || who.includes('a') ? 'ugo' : who).split('') as Array<'u' | 'g' | 'o'>;
    const ops = m[2]!.match(/[-+=][rwxXstugo]*/g) ?? [];
    for (const op of ops) {
      const operator = op[0]!;
      const perms = op.slice(1);
      if (/[ugo]/.test(perms) && perms.length > 1) {
        throw new ModeError(`mode must be in octal or symbolic form: bad symbolic permission for mode: ${clause}`);
      }
      for (const user of users) {
        const bits = permBits(user, perms, mode, isDir, useUmask ? ~umask & PERM_BITS : PERM_BITS);
        if (operator === '=') mode = (mode & (MASKS[user] ^ PERM_BITS)) | bits;
        else if (operator === '+') mode |= bits;
        else mode &= ~bits;
      }
    }
  }
  return mode;
}

function permBits(user: 'u' | 'g' | 'o', perms: string, prev: number, isDir: boolean, revUmask: number): number {
  const shift = { u: 6, g: 3, o: 0 }[user];
  const applyX = isDir || (prev & 0o111) > 0;
  const copy = (from: 'u' | 'g' | 'o'): number => ((prev >> { u: 6, g: 3, o: 0 }[from]) & 0o7) << shift;
  let bits = 0;
  for (const p of perms) {
    if (p === 'r') bits |= (0o4 << shift) & revUmask;
    else if (p === 'w') bits |= (0o2 << shift) & revUmask;
    else if (p === 'x') bits |= (0o1 << shift) & revUmask;
    else if (p === 'X') bits |= applyX ? 0o1 << shift : 0;
    else if (p === 's') bits |= user === 'u' ? 0o4000 : user === 'g' ? 0o2000 : 0;
    else if (p === 't') bits |= user === 'o' ? 0o1000 : 0;
    else bits |= copy(p as 'u' | 'g' | 'o');
  }
  return bits;
}
