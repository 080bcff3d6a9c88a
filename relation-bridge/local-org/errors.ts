/**
 * An error the local org answers with, in Salesforce's REST shape: an array of
 * `{message, errorCode[, fields]}` and an HTTP status.
 */
export class SalesforceFault extends Error {
  readonly status: number;
  readonly errorCode: string;
  readonly fields: string[] | undefined;

  constructor(status: number, errorCode: string, message: string, fields?: string[]) {
    super(message);
    this.name = 'SalesforceFault';
    this.status = status;
    this.errorCode = errorCode;
    this.fields = fields;
  }

  toBody(): Array<{ message: string; errorCode: string; fields?: string[] }> {
    const entry: { message: string; errorCode: string; fields?: string[] } = {
      message: this.message,
      errorCode: this.errorCode,
    };
    if (this.fields !== undefined) entry.fields = this.fields;
    return [entry];
  }
}

/** A record-level failure of a DML operation, as collections report it (`statusCode`). */
export interface DmlError {
  statusCode: string;
  message: string;
  fields: string[];
}

export function dmlError(statusCode: string, message: string, fields: string[] = []): DmlError {
  return { statusCode, message, fields };
}

export const notFound = () => new SalesforceFault(404, 'NOT_FOUND', 'The requested resource does not exist');
