import { IntakePressure, SLOW_ANSWER_MS } from '../../src/sync/intake-pressure';
import { roomAfterBatch } from '../../src/sync/org-pipeline';

describe('Sync: the room a backlog leaves the webhooks', () => {
  describe('IntakePressure', () => {
    let clock = 0;
    const pressure = () => new IntakePressure(() => clock);
    beforeEach(() => {
      clock = 10_000;
    });

    it('is the share of the last second’s answers slower than the slow mark', () => {
      const intake = pressure();
      expect(intake.slowShare()).toBe(0);
      for (let index = 0; index < 97; index += 1) intake.record(0.004);
      intake.record(SLOW_ANSWER_MS / 1000); // at the mark: not slow
      intake.record(0.03);
      intake.record(0.2);
      expect(intake.slowShare()).toBeCloseTo(0.02, 10);
    });

    it('forgets answers older than a second, a quarter of a second at a time', () => {
      const intake = pressure();
      intake.record(0.5);
      clock += 300;
      intake.record(0.001);
      expect(intake.slowShare()).toBe(0.5);
      clock += 800; // the slow answer is 1.1 s old, the fast one 0.8 s
      expect(intake.slowShare()).toBe(0);
      intake.record(0.001);
      expect(intake.slowShare()).toBe(0);
      clock += 5_000;
      expect(intake.slowShare()).toBe(0);
      intake.record(0.04);
      expect(intake.slowShare()).toBe(1);
    });
  });

  describe('roomAfterBatch', () => {
    const calm = { elapsedMs: 400, loopUtilization: 0.2, slowShare: 0, pressedRoom: 0 };

    it('leaves no room while the event loop is within the sync’s share and the answers are fast', () => {
      expect(roomAfterBatch(calm)).toEqual({ waitMs: 0, pressedRoom: 0 });
    });

    it('brings a busy event loop back to the sync’s share (35%)', () => {
      const room = roomAfterBatch({ ...calm, loopUtilization: 0.7 });
      expect(room.waitMs).toBeCloseTo(400, 6);
      // Batch and pause together: 0.7 × 400 ms of work in 800 ms.
      expect((0.7 * 400) / (400 + room.waitMs)).toBeCloseTo(0.35, 6);
    });

    it('while answers are slow, pauses for half the batch’s time, doubling batch after batch up to 8×', () => {
      const slow = { ...calm, slowShare: 0.05 };
      let room = roomAfterBatch(slow);
      expect(room).toEqual({ waitMs: 200, pressedRoom: 0.5 });
      const waits: number[] = [];
      for (let batch = 0; batch < 5; batch += 1) {
        room = roomAfterBatch({ ...slow, pressedRoom: room.pressedRoom });
        waits.push(room.waitMs);
      }
      // 400, 800, then the longest pause (1 s) however long the batch.
      expect(waits).toEqual([400, 800, 1_000, 1_000, 1_000]);
      expect(room.pressedRoom).toBe(8);
    });

    it('halves the pause once answers are fast again, and drops it below half the batch’s time', () => {
      let room = { waitMs: 0, pressedRoom: 2 };
      const rooms: number[] = [];
      for (let batch = 0; batch < 3; batch += 1) {
        room = roomAfterBatch({ ...calm, pressedRoom: room.pressedRoom });
        rooms.push(room.pressedRoom);
      }
      expect(rooms).toEqual([1, 0.5, 0]);
    });

    it('takes the longer of the two pauses', () => {
      const room = roomAfterBatch({ ...calm, loopUtilization: 0.7, slowShare: 0.5, pressedRoom: 0.5 });
      expect(room.waitMs).toBeCloseTo(400, 6);
      expect(roomAfterBatch({ ...calm, loopUtilization: 0.7, slowShare: 0.5, pressedRoom: 2 }).waitMs).toBe(1_000);
    });
  });
});
