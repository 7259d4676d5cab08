// Role argument specs: the spec file checked, values validated the way Ansible's
// validate_argument_spec does (coercive type checks, choices, nested options, elements,
// required), every violation listed in one error at the value's file:line:col.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ParseError } from '../../engine/errors.js';
import { parseYaml } from '../../engine/load/yaml.js';
import { locate } from '../../engine/load/positions.js';
import {
  argumentSpecsToJsonSchema,
  loadArgumentSpecs,
  parseArgumentSpecs,
  validateRoleArguments,
  type ArgumentValue,
} from '../../engine/roles/argument-specs.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const SPEC_FILE = '/virtual/roles/web/meta/argument_specs.yml';
const SPEC = `argument_specs:
  main:
    short_description: Web server
    options:
      web_port:
        type: int
        default: 80
        description: Port to listen on.
      web_mode:
        type: str
        choices: [fast, slow]
      web_token:
        type: int
        required: true
        no_log: true
      web_enabled:
        type: bool
        default: true
      web_ratio:
        type: float
      web_path:
        type: path
      web_packages:
        type: list
        elements: str
        choices: [nginx, haproxy]
      web_ports:
        type: list
        elements: int
      web_settings:
        type: dict
      web_tls:
        type: dict
        options:
          cert:
            type: path
            required: true
          port:
            type: int
            default: 443
            aliases: [listen_port]
      web_users:
        type: list
        elements: dict
        options:
          name:
            type: str
            required: true
          uid:
            type: int
  secondary:
    options:
      other:
        type: str
        required: true
`;

const specs = parseYaml(SPEC, SPEC_FILE);
const role = { name: 'web', specFile: SPEC_FILE, specs };

let varsCounter = 0;
/** Variables written in a (virtual) YAML file, each with the position the loader recorded. */
function vars(text: string): { values: Record<string, ArgumentValue>; file: string } {
  const file = `/virtual/vars${++varsCounter}.yml`;
  const doc = parseYaml(text, file) as Record<string, unknown>;
  const values: Record<string, ArgumentValue> = {};
  for (const [key, value] of Object.entries(doc)) values[key] = { value, origin: locate(doc, key)! };
  return { values, file };
}

function validationError(values: Record<string, ArgumentValue>, entryPoint = 'main'): ParseError {
  try {
    validateRoleArguments(role, entryPoint, values);
  } catch (err) {
    assert.ok(err instanceof ParseError, String(err));
    return err;
  }
  assert.fail('expected the arguments to be rejected');
}

const base = 'web_token: 1\n';

describe('validateRoleArguments: types and conversions', () => {
  test('values that Ansible can convert pass and are returned as written', () => {
    const { values } = vars(
      base +
        `web_port: "8080"\nweb_enabled: "yes"\nweb_ratio: "1.5"\nweb_path: 42\nweb_ports: "80,443"\nweb_settings: "a=1 b=2"\nweb_mode: fast\n`,
    );
    const result = validateRoleArguments(role, 'main', values);
    // Ansible validates a converted copy; the role still sees the original values
    assert.equal(result.web_port, '8080');
    assert.equal(result.web_enabled, 'yes');
    assert.equal(result.web_ports, '80,443');
    assert.equal(result.web_settings, 'a=1 b=2');
    assert.equal(result.web_path, 42);
  });

  test('a value that cannot be converted names the role, the variable, the type and the value', () => {
    const { values, file } = vars(base + 'web_port: eighty\n');
    const err = validationError(values);
    assert.equal(err.code, 'ARGUMENT_SPEC');
    assert.equal(err.exitCode, 4);
    assert.match(err.message, /role 'web'/);
    assert.match(err.message, /web_port: expected int, got 'eighty' \(str\)/);
    assert.deepEqual(err.pos, { file, line: 2, col: 11 });
  });

  for (const [type, yaml, shown] of [
    ['bool', 'web_enabled: maybe', "'maybe'"],
    ['float', 'web_ratio: fast', "'fast'"],
    ['int', 'web_port: 8.5', '8.5'],
    ['int', 'web_port: [80]', '[80]'],
    ['dict', 'web_settings: plain words', "'plain words'"],
    ['list', 'web_ports: {a: 1}', '{"a":1}'],
  ] as const) {
    test(`${type} rejects ${yaml}`, () => {
      const err = validationError(vars(base + yaml + '\n').values);
      assert.ok(err.message.includes(`expected ${type}, got ${shown}`), err.message);
    });
  }

  test('list elements are converted and checked one by one', () => {
    assert.doesNotThrow(() => validateRoleArguments(role, 'main', vars(base + 'web_ports: [80, "443"]\n').values));
    const { values, file } = vars(base + 'web_ports:\n  - 80\n  - http\n');
    const err = validationError(values);
    assert.match(err.message, /web_ports\[1\]: expected a list of int, got 'http'/);
    assert.deepEqual(err.pos, { file, line: 4, col: 5 });
  });

  test('a value still holding a template is not judged before it is templated', () => {
    assert.doesNotThrow(() => validateRoleArguments(role, 'main', vars(base + 'web_port: "{{ port }}"\nweb_mode: "{{ mode }}"\n').values));
  });

  test('null is fine for an optional option without a default, not for one with a default (as Ansible)', () => {
    assert.doesNotThrow(() => validateRoleArguments(role, 'main', vars(base + 'web_mode: ~\n').values));
    assert.match(validationError(vars(base + 'web_port: ~\n').values).message, /web_port: expected int, got null/);
  });
});

describe('validateRoleArguments: where a value came from', () => {
  test('a value without a known origin (e.g. -e) is named as such; the frame points at its option', () => {
    const err = validationError({ web_token: { value: 1 }, web_port: { value: 'eighty' } });
    assert.match(err.message, /web_port: expected int, got 'eighty' \(str\), which cannot be converted to int \(value set where tsplay cannot tell, e\.g\. -e; option at \/virtual\/roles\/web\/meta\/argument_specs\.yml:5:7\)/);
    assert.deepEqual(err.pos, { file: SPEC_FILE, line: 5, col: 7 });
  });
});

describe('validateRoleArguments: choices, required, defaults', () => {
  test('choices: the message lists them and the value', () => {
    const err = validationError(vars(base + 'web_mode: medium\n').values);
    assert.match(err.message, /web_mode: value must be one of: 'fast', 'slow'; got 'medium'/);
  });

  test('choices of a list apply to each element', () => {
    assert.doesNotThrow(() => validateRoleArguments(role, 'main', vars(base + 'web_packages: nginx,haproxy\n').values));
    const err = validationError(vars(base + 'web_packages: [nginx, apache]\n').values);
    assert.match(err.message, /web_packages\[1\]: value must be one of: 'nginx', 'haproxy'; got 'apache'/);
  });

  test('a missing required option points at its spec', () => {
    const err = validationError({});
    assert.match(err.message, /missing required argument 'web_token'/);
    assert.deepEqual(err.pos, { file: SPEC_FILE, line: 12, col: 7 });
  });

  test('defaults fill the options left unset, and only those', () => {
    const result = validateRoleArguments(role, 'main', vars(base + 'web_enabled: false\n').values);
    assert.equal(result.web_port, 80);
    assert.equal(result.web_enabled, false);
    assert.equal(result.web_token, 1);
    assert.equal('web_mode' in result, false);
  });

  test('each entry point has its own options; an unknown entry point is not validated', () => {
    assert.match(validationError({}, 'secondary').message, /entry point 'secondary'.*missing required argument 'other'/s);
    assert.deepEqual(validateRoleArguments(role, 'nonexistent', { x: { value: 1 } }), { x: 1 });
  });
});

describe('validateRoleArguments: nested options', () => {
  test('sub-options of a dict: types, required, unknown keys, aliases, positions', () => {
    assert.doesNotThrow(() => validateRoleArguments(role, 'main', vars(base + 'web_tls: {cert: /etc/c.pem, listen_port: "8443"}\n').values));
    const { values, file } = vars(base + 'web_tls:\n  port: https\n  crt: /etc/c.pem\n');
    const err = validationError(values);
    assert.match(err.message, /web_tls\.port: expected int, got 'https'/);
    assert.match(err.message, /web_tls: missing required sub-option 'cert'/);
    assert.match(err.message, /web_tls: unsupported parameter 'crt' \(did you mean 'cert'\?\); supported: cert, port/);
    assert.deepEqual(err.pos, { file, line: 3, col: 3 }, err.message); // the first problem in reading order
    assert.ok(err.message.includes(`${file}:4:3`), err.message); // the unknown key's own line
  });

  test('list of dicts: each element is checked against the sub-options', () => {
    const { values, file } = vars(base + 'web_users:\n  - name: alice\n    uid: 1000\n  - uid: x\n');
    const err = validationError(values);
    assert.match(err.message, /web_users\[1\]\.uid: expected int, got 'x'/);
    assert.match(err.message, /web_users\[1\]: missing required sub-option 'name'/);
    assert.ok(err.message.includes(`${file}:5:10`), err.message);
  });
});

describe('validateRoleArguments: every problem at once, secrets hidden', () => {
  test('all violations of a role are listed in one error', () => {
    const err = validationError(vars('web_port: eighty\nweb_mode: medium\nweb_enabled: maybe\n').values);
    assert.match(err.message, /4 problems/);
    for (const name of ['web_port', 'web_mode', 'web_enabled', "'web_token'"]) assert.ok(err.message.includes(name), name);
  });

  test('a no_log value never appears in the message', () => {
    const secret = 'hunter2-very-secret';
    const err = validationError(vars(`web_token: ${secret}\n`).values);
    assert.match(err.message, /web_token: expected int, got a str value \(hidden: no_log\)/);
    assert.equal(err.message.includes(secret), false);
    // no code frame either: it would print the line holding the secret; the place is named instead
    assert.equal(err.pos, undefined);
    assert.equal(err.format().includes(secret), false);
    assert.match(err.message, /\(\/virtual\/vars\d+\.yml:1:12\)/);
  });

  test('a no_log option with choices hides the value too', () => {
    const s = parseYaml('argument_specs:\n  main:\n    options:\n      pw: {type: str, choices: [a, b], no_log: true}\n', '/virtual/nolog.yml');
    try {
      validateRoleArguments({ name: 'r', specFile: '/virtual/nolog.yml', specs: s }, 'main', { pw: { value: 'swordfish' } });
      assert.fail('expected a rejection');
    } catch (err) {
      assert.ok(err instanceof ParseError);
      assert.equal(err.message.includes('swordfish'), false, err.message);
      assert.match(err.message, /pw: value must be one of: 'a', 'b'; got a value hidden by no_log/);
    }
  });
});

describe('the spec file itself', () => {
  function specError(text: string): ParseError {
    try {
      parseArgumentSpecs(parseYaml(text, '/virtual/bad.yml'), '/virtual/bad.yml');
    } catch (err) {
      assert.ok(err instanceof ParseError, String(err));
      return err;
    }
    assert.fail('expected the spec to be rejected');
  }

  test('an unknown type is an error at its line, with a suggestion', () => {
    const err = specError('argument_specs:\n  main:\n    options:\n      port:\n        type: integer\n');
    assert.equal(err.code, 'ARGUMENT_SPEC');
    assert.match(err.message, /unknown type 'integer'.*valid types: str, int/);
    assert.deepEqual(err.pos, { file: '/virtual/bad.yml', line: 5, col: 15 });
  });

  test('typos, misplaced elements, required with default and a default of the wrong type are all listed', () => {
    const err = specError(`argument_specs:
  main:
    options:
      a: {type: str, defualt: x}
      b: {type: str, elements: int}
      c: {type: int, required: true, default: 3}
      d: {type: int, default: many}
      e: {type: str, choices: [x, y], default: z}
`);
    assert.match(err.message, /5 problems/);
    assert.match(err.message, /option 'a': unknown key 'defualt' \(did you mean 'default'\?\)/);
    assert.match(err.message, /option 'b': 'elements' only applies to type list/);
    assert.match(err.message, /option 'c': required and default are mutually exclusive/);
    assert.match(err.message, /option 'd': default 'many' is not a valid int/);
    assert.match(err.message, /option 'e': default 'z' is not one of the choices/);
    assert.equal(err.pos?.line, 4);
  });

  test('nested options need a dict (or a list of dicts)', () => {
    assert.match(specError('argument_specs:\n  main:\n    options:\n      a:\n        type: str\n        options: {b: {type: str}}\n').message, /nested 'options' need type dict/);
  });
});

describe('argumentSpecsToJsonSchema', () => {
  test('types, required, choices, elements and nested options become JSON Schema', () => {
    const schema = argumentSpecsToJsonSchema(specs, 'main') as any;
    assert.deepEqual(schema.required, ['web_token']);
    assert.equal(schema.properties.web_port.type, 'integer');
    assert.equal(schema.properties.web_port.default, 80);
    assert.deepEqual(schema.properties.web_mode.enum, ['fast', 'slow']);
    assert.deepEqual(schema.properties.web_packages.items, { type: 'string', enum: ['nginx', 'haproxy'] });
    assert.equal(schema.properties.web_users.items.properties.uid.type, 'integer');
    assert.deepEqual(schema.properties.web_users.items.required, ['name']);
    assert.equal(schema.properties.web_tls.additionalProperties, false);
    const validate = new Ajv2020({ strict: false }).compile(schema);
    assert.equal(validate({ web_token: 1, web_users: [{ name: 'a', uid: 1 }] }), true);
    assert.equal(validate({ web_token: 1, web_users: [{ uid: 1 }] }), false);
  });

  test('an unknown entry point is an error', () => {
    assert.throws(() => argumentSpecsToJsonSchema(specs, 'mian'), /no entry point 'mian'.*did you mean 'main'/);
  });
});

describe('loadArgumentSpecs', () => {
  const root = makeTempDir('tsplay-argspec-');
  function role(name: string, files: Record<string, string>): string {
    const dir = path.join(root, name);
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  const one = 'argument_specs:\n  main:\n    options:\n      x: {type: int}\n';

  test('meta/argument_specs.yml, .yaml, or argument_specs in meta/main.yml', () => {
    for (const rel of ['meta/argument_specs.yml', 'meta/argument_specs.yaml', 'meta/main.yml']) {
      const dir = role(rel.replace(/\W/g, '_'), { [rel]: rel === 'meta/main.yml' ? `galaxy_info: {author: me}\n${one}` : one });
      const loaded = loadArgumentSpecs(dir);
      assert.equal(loaded?.specFile, path.join(dir, rel));
      assert.equal(parseArgumentSpecs(loaded!.specs, loaded!.specFile).main?.options.x?.type, 'int');
    }
  });

  test('an unchanged spec file is read once: the same document (and so the same compiled validator) comes back', () => {
    const dir = role('cached', { 'meta/argument_specs.yml': one });
    const first = loadArgumentSpecs(dir);
    assert.equal(loadArgumentSpecs(dir)?.specs, first?.specs);
    writeFileSync(path.join(dir, 'meta/argument_specs.yml'), one.replace('int', 'str') + '# changed\n');
    const changed = loadArgumentSpecs(dir);
    assert.notEqual(changed?.specs, first?.specs);
    assert.equal(parseArgumentSpecs(changed!.specs, changed!.specFile).main?.options.x?.type, 'str');
  });

  test('argument_specs.yml wins over meta/main.yml; a role without specs has none', () => {
    const dir = role('both', { 'meta/argument_specs.yml': one, 'meta/main.yml': 'argument_specs:\n  other: {}\n' });
    assert.equal(loadArgumentSpecs(dir)?.specFile, path.join(dir, 'meta/argument_specs.yml'));
    assert.equal(loadArgumentSpecs(role('plain', { 'meta/main.yml': 'galaxy_info: {}\n', 'tasks/main.yml': '[]\n' })), undefined);
    assert.equal(loadArgumentSpecs(role('bare', { 'tasks/main.yml': '[]\n' })), undefined);
  });

  test('a malformed spec file fails when loaded, at its line', () => {
    const dir = role('broken', { 'meta/argument_specs.yml': 'argument_specs:\n  main:\n    options:\n      x:\n        type: itn\n' });
    assert.throws(() => loadArgumentSpecs(dir), (err: unknown) => err instanceof ParseError && err.pos?.line === 5 && /did you mean 'int'/.test(err.message));
    const noKey = role('nokey', { 'meta/argument_specs.yml': 'main:\n  options: {}\n' });
    assert.throws(() => loadArgumentSpecs(noKey), /must have a top-level 'argument_specs:'/);
  });
});
