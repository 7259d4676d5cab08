// Public API of the reporting layer.
export type { Reporter, RunEvent, HostStats, HostStatus } from './events.js';
export { emptyStats } from './events.js';
export { createColors, colorEnabled, noColors, stripAnsi, type Colors } from './color.js';
export { renderDiff, renderDiffs } from './diff.js';
export { formatRecap, formatRecapLine } from './recap.js';
export { banner } from './banner.js';
export { PlainReporter, type PlainReporterOptions } from './plain.js';
export { TtyReporter, type TtyReporterOptions } from './tty.js';
export { JsonReporter, type RunSummary } from './json.js';
export { createReporter, type CreateReporterOptions } from './select.js';
export { SHOW_KEY } from './result-display.js';
