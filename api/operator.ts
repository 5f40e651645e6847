// Who an operator action names: the body's `operator`, else the Stablerail-Operator header.
import type { Ctx } from './route-types.js';

export const operatorOf = (ctx: Ctx): string => ctx.body?.operator ?? ctx.operator ?? 'operator';
