// Who an operator action names: the authenticated operator and the credential they used
// (`op_…@otk_…` or `op_…@oss_…`), never a name from the request.
import { actorOf } from '../activities/operators.js';
import type { Ctx } from './route-types.js';

export const operatorOf = (ctx: Ctx): string => actorOf(ctx.operator!);
/** The operator and credential as Temporal Updates carry them (approvals count operator ids). */
export const operatorIdentity = (ctx: Ctx) => ({ operatorId: ctx.operator!.operatorId, credentialId: ctx.operator!.credentialId });
