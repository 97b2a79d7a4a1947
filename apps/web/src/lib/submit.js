// What the ballot page sends: a plain vote, or a ballot sealed here from the context of
// GET /api/elections/ID/ballot ({election_id, chain_id, election_key, voter_tag,
// candidates in ballot order, ballot_bytes}).
import { sealBallot, verifyBallot, ballotSize } from './ballot.js';
import { fromHex, toBase64 } from './bytes.js';

export function plainSubmission(electionId, candidateId) {
  return { election_id: Number(electionId), candidate_id: Number(candidateId) };
}

/// Seals the ballot for candidateId and checks it before it leaves the device.
/// Throws if the context is malformed or the sealed ballot fails its own check.
export function sealedSubmission(ctx, candidateId) {
  const candidates = ctx.candidates ?? [];
  const choice = candidates.findIndex((c) => Number(c.id) === Number(candidateId));
  if (choice < 0) throw new Error('this candidate is not on the ballot');
  const args = {
    chainId: BigInt(ctx.chain_id),
    electionId: BigInt(ctx.election_id),
    electionKey: fromHex(ctx.election_key, 32),
    voterTag: fromHex(ctx.voter_tag, 32),
    n: candidates.length,
  };
  const body = sealBallot({ ...args, choice });
  if (ctx.ballot_bytes !== undefined && Number(ctx.ballot_bytes) !== body.length)
    throw new Error(`sealed ballot is ${body.length} bytes, the election expects ${ctx.ballot_bytes}`);
  if (body.length !== ballotSize(candidates.length)) throw new Error('sealed ballot has the wrong size');
  const check = verifyBallot({ ...args, body });
  if (!check.ok) throw new Error(`the sealed ballot does not check: ${check.error}`);
  return { election_id: Number(ctx.election_id), encrypted_vote: toBase64(body) };
}
