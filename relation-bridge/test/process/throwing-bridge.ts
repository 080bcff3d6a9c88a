/**
 * The bridge process (src/server.ts) with one addition: on the parent's message it lets an
 * error escape everything, so that the process-level handlers can be seen at work.
 */
import '../../src/server';

process.on('message', (message) => {
  if (message === 'throw') {
    setImmediate(() => {
      throw new Error('test: an error nothing catches');
    });
  } else if (message === 'reject') {
    void Promise.reject(new Error('test: a rejection nobody handles'));
  }
});
