// tsplay's public API: what `import ... from 'tsplay'` gives. The CLI is a thin layer over it.
export { runPlaybook, prepareRun, executeRun, exitCodeFor } from './run/playbook-runner.js';
export type { PlaybookRequest, RunOutcome, LoadedRun } from './run/playbook-runner.js';
export type { RunOptions } from './run/context.js';
export { loadInventory } from './inventory/load.js';
export type { Inventory, InventoryHost, InventoryGroup } from './inventory/types.js';
export { loadPlaybook } from './load/playbook.js';
export type { Playbook, PlayNode, TaskNode, BlockNode, IncludeNode, TaskItem } from './load/model.js';
export { defineModule } from './modules/types.js';
export type { ModuleDef, ModuleContext, ModuleResult, FileDiff, JsonSchema } from './modules/types.js';
export { registerModule, lookupModule, moduleNames } from './modules/registry.js';
export type { Connection, ExecOptions, ExecResult, BecomeOptions } from './connection/types.js';
export { registerTransport } from './connection/factory.js';
export { HostOps } from './connection/host-ops.js';
export type { RunEvent, Reporter, HostStats, HostStatus } from './report/events.js';
export { createReporter } from './report/select.js';
export { TsplayError, ParseError, OptionError, ExitCode } from './errors.js';
