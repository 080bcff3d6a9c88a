// lightning/empApi for jest: records subscriptions so that a test can deliver streaming
// messages to the component (sfdx-lwc-jest's own stub never calls the message callback).
const subscriptions = [];
const errorHandlers = [];

export const subscribe = jest.fn((channel, replayId, onMessage) => {
  const subscription = { channel, replayId, onMessage };
  subscriptions.push(subscription);
  return Promise.resolve({ channel, id: String(subscriptions.length), replayId });
});

export const unsubscribe = jest.fn(() => Promise.resolve({ successful: true }));

export const onError = jest.fn((handler) => {
  errorHandlers.push(handler);
});

export const isEmpEnabled = jest.fn(() => Promise.resolve(true));

export const setDebugFlag = jest.fn(() => Promise.resolve());

/** Test helper: delivers a platform event payload to every subscriber of the channel. */
export function emitMessage(channel, payload) {
  for (const subscription of subscriptions.filter((candidate) => candidate.channel === channel)) {
    subscription.onMessage({ channel, data: { event: { replayId: 1 }, payload } });
  }
}

/** Test helper: reports a streaming error to every registered handler. */
export function emitError(error) {
  for (const handler of errorHandlers) handler(error);
}

/** Test helper: forgets every subscription and handler. */
export function resetEmpApi() {
  subscriptions.length = 0;
  errorHandlers.length = 0;
  subscribe.mockClear();
  unsubscribe.mockClear();
  onError.mockClear();
}
