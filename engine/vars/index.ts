// Public API of the variables/templating/conditions concern.
export { TemplateError, ExpressionError } from './errors.js';
export { renderString, renderValue, isTemplate, containsTemplate, parseTemplate, analyseTemplate, type PositionSource } from './template.js';
export { evaluateExpression } from './expr/evaluate.js';
export { evaluateCondition, type ConditionPos } from './condition.js';
export { buildScope, scopeWith, isScope, variableOrigin, type VarLayer, type VariableOrigin } from './scope.js';
export { templateReferences, expressionReferences } from './references.js';
export { HELPERS } from './helpers.js';
export { truthy, toBool, pyEquals } from './values.js';
