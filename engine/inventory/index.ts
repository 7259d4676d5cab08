// The inventory's public API: load sources, query hosts and groups, show them.
export { loadInventory, parseInventoryFile, type LoadInventoryOptions } from './load.js';
export { InventoryModel, LOCALHOST_NAMES } from './inventory.js';
export { checkHostPattern, parseLimit, selectWithLimit, splitHostPattern } from './patterns.js';
export { inventoryGraph, inventoryHostJson, inventoryListJson, inventoryListText } from './show.js';
export type { Inventory, InventoryGroup, InventoryHost } from './types.js';
