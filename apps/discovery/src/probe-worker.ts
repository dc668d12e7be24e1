import { parentPort, workerData } from 'node:worker_threads';
import { type ProbeRequest, type ProbeResponse, createConversionProber } from './probe';

// The health checks' own thread: each probe's connect, exchange and close run here, so the
// thread that answers LOOKUP pays only a message per probe (see createThreadedProber).
const probe = createConversionProber({ timeoutMs: (workerData as { timeoutMs: number }).timeoutMs });
parentPort?.on('message', (request: ProbeRequest) => {
  void probe(request.endpoint, request.pair).then((result) => parentPort?.postMessage({ id: request.id, result } satisfies ProbeResponse));
});
