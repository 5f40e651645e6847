// Devnet-only routes: the "Simulate payment" control of the payer page and the console. They
// exist only where the process runs the local devnet (deps.devnetPayer), so never in live, and
// they pay the way a real payer does: a token transfer on the devnet or the TRON stand-in from
// the devnet's funded payer, which the watcher then sees like any other. Nothing is written here.
import { railById } from '../activities/config.js';
import { NotDevnetRailError, payFromDevnetPayer, simulatedAmountMinor, type SimulatedOutcome } from '../activities/chain/devnet-payer.js';
import { findPaymentByPublicId } from '../activities/repositories/payments.js';
import { formatAmount, MoneyError, parseAmount } from '../workflows/rules/money.js';
import { ApiError, badRequest, notFound } from './errors.js';
import type { Ctx, RouteDef } from './route-types.js';


async function simulate(ctx: Ctx) {
  const id = ctx.params.public_id!;
  const p = await findPaymentByPublicId(ctx.deps.pool, id);
  // A live payment is not simulated: it answers as if there were no such payment to simulate.
  if (!p || p.environment !== 'sandbox') throw notFound('sandbox payment', 'public_id');
  const rail = railById(ctx.deps.config, p.rail);
  if (!rail?.devnet) throw badRequest('rail_not_devnet', `The payment's rail ${p.rail} is not a devnet rail: pay it from a real wallet`, 'public_id');
  if (ctx.body.amount !== undefined && ctx.body.outcome !== undefined) throw badRequest('parameter_conflict', 'Give outcome or amount, not both', 'amount');
  let amountMinor: bigint;
  try {
    amountMinor = ctx.body.amount !== undefined
      ? parseAmount(ctx.body.amount, rail.decimals)
      : simulatedAmountMinor((ctx.body.outcome ?? 'exact') as SimulatedOutcome, BigInt(p.amount_minor), BigInt(p.amount_received_minor));
  } catch (err) {
    if (err instanceof MoneyError) throw badRequest(err.code, err.message, 'amount');
    throw err;
  }
  try {
    const paid = await payFromDevnetPayer(rail, ctx.deps.devnetPayer!.privateKey, { to: p.deposit_address, amountMinor });
    return { object: 'simulated_payment', public_id: p.public_id, rail: rail.id, tx_hash: paid.txHash, from: paid.from, to: paid.to, amount: formatAmount(amountMinor, rail.decimals), asset: p.asset };
  } catch (err) {
    if (err instanceof NotDevnetRailError) throw badRequest('rail_not_devnet', err.message, 'public_id');
    throw new ApiError(502, 'api_error', 'devnet_unavailable', `The devnet did not take the transfer: ${(err as Error).message.slice(0, 300)}`);
  }
}

export const devnetRoutes: RouteDef[] = [
  {
    method: 'post', path: '/v1/public/payments/:public_id/simulate', summary: 'Devnet only: pay a sandbox payment from the devnet payer (a real transfer on the devnet or the TRON stand-in)',
    auth: 'public', body: 'PaymentSimulate', devnetOnly: true, handler: simulate,
  },
];
