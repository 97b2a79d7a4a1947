// Reads a running ballotchain validator with ethers v6 and checks what a
// standard Ethereum client sees.   node check.mjs RPC_URL TX_HASH CHAIN_ID
import { ethers } from "ethers";

const [url, txHash, chainIdArg] = process.argv.slice(2);
if (!url || !txHash) {
  console.error("usage: node check.mjs RPC_URL TX_HASH [CHAIN_ID]");
  process.exit(2);
}
const want = BigInt(chainIdArg ?? "1337");
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };
const check = (cond, msg) => { if (!cond) fail(msg); };

const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true, batchMaxCount: 1 });
try {
  const net = await provider.getNetwork();
  check(net.chainId === want, `chainId ${net.chainId} != ${want}`);
  const n = await provider.getBlockNumber();
  check(n >= 1, `block number ${n}`);

  const latest = await provider.getBlock(n);
  check(latest && latest.number === n, "getBlock(latest number)");
  const byHash = await provider.getBlock(latest.hash);
  check(byHash && byHash.hash === latest.hash && byHash.number === n, "getBlock(hash)");
  const parent = await provider.getBlock(n - 1);
  check(parent && latest.parentHash === parent.hash, "parent hash links");

  const tx = await provider.getTransaction(txHash);
  check(tx !== null, "getTransaction returned null");
  check(tx.hash === txHash, `tx hash ${tx.hash}`);
  check(tx.blockNumber !== null && tx.blockHash !== null, "tx not in a block");

  const full = await provider.getBlock(tx.blockNumber, true);
  check(full.prefetchedTransactions.some((t) => t.hash === txHash), "full block lacks the tx");

  const receipt = await provider.getTransactionReceipt(txHash);
  check(receipt !== null, "receipt null");
  check(receipt.status === 1, `receipt status ${receipt.status}`);
  check(receipt.blockNumber === tx.blockNumber, "receipt block number");
  check(receipt.blockHash === tx.blockHash, "receipt block hash");
  check(receipt.gasUsed === 0n, `gasUsed ${receipt.gasUsed}`);

  const missing = await provider.getTransactionReceipt("0x" + "00".repeat(32));
  check(missing === null, "receipt of an unknown tx is not null");
  console.log(`ethers ${ethers.version}: chain ${net.chainId}, height ${n}, tx in block ${tx.blockNumber}, receipt status ${receipt.status}: ok`);
  process.exit(0);
} catch (e) {
  fail(e.stack ?? String(e));
}
