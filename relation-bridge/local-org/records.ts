import type { FieldValue } from './values';

export interface StoredRecord {
  type: string;
  id: string;
  /** Canonical field name → stored value. */
  fields: Record<string, FieldValue>;
  /** When the record was created (ms); drives SOSL index lag. */
  createdAt: number;
}

/**
 * All records of one org. Every change leaves an undo step, so that an all-or-none
 * request (collections or composite) can roll back to a savepoint.
 */
export class RecordStore {
  private readonly byId = new Map<string, StoredRecord>();
  private readonly byType = new Map<string, Map<string, StoredRecord>>();
  private undo: Array<() => void> = [];

  get(id: string): StoredRecord | undefined {
    return this.byId.get(id);
  }

  /** Records of one type in creation order, live ones only unless asked. */
  all(type: string, includeDeleted = false): StoredRecord[] {
    const records = [...(this.byType.get(type)?.values() ?? [])];
    return includeDeleted ? records : records.filter((record) => record.fields.IsDeleted !== true);
  }

  insert(record: StoredRecord): void {
    this.byId.set(record.id, record);
    let ofType = this.byType.get(record.type);
    if (ofType === undefined) {
      ofType = new Map();
      this.byType.set(record.type, ofType);
    }
    ofType.set(record.id, record);
    this.undo.push(() => {
      this.byId.delete(record.id);
      this.byType.get(record.type)?.delete(record.id);
    });
  }

  /** Removes a record for good (not the recycle bin): what uninstalling a package does to its data. */
  remove(record: StoredRecord): void {
    if (this.byId.get(record.id) !== record) return;
    this.byId.delete(record.id);
    this.byType.get(record.type)?.delete(record.id);
    this.undo.push(() => {
      this.byId.set(record.id, record);
      this.byType.get(record.type)?.set(record.id, record);
    });
  }

  update(record: StoredRecord, changes: Record<string, FieldValue>): void {
    const previous: Record<string, FieldValue | undefined> = {};
    for (const name of Object.keys(changes)) previous[name] = record.fields[name];
    Object.assign(record.fields, changes);
    this.undo.push(() => {
      for (const [name, value] of Object.entries(previous)) {
        if (value === undefined) delete record.fields[name];
        else record.fields[name] = value;
      }
    });
  }

  savepoint(): number {
    return this.undo.length;
  }

  rollbackTo(savepoint: number): void {
    while (this.undo.length > savepoint) this.undo.pop()?.();
  }

  /** Called when a request ends: its changes are final. */
  commit(): void {
    this.undo = [];
  }
}
