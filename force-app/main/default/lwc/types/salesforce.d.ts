// Types for the platform modules that the components use and that @salesforce/lightning-types
// does not declare. The `@salesforce/apex/*` and `@salesforce/label/*` modules are generated
// from the Apex classes and the custom labels into ./generated (npm run lwc:build).

/** An error as the wire service or an imperative Apex call reports it. */
interface ApexError {
  body?: { message?: string } | Array<{ message?: string }>;
  message?: string;
  status?: number;
  statusText?: string;
}

/** What `@wire` provides for an Apex method: the data, or the error. */
interface ApexWireResult<Result> {
  data?: Result;
  error?: ApexError;
}

/**
 * An `@AuraEnabled` Apex method as imported from `@salesforce/apex/Class.method`: callable
 * imperatively, and a wire adapter when the method is cacheable.
 */
type ApexMethod<Params extends object, Result> = import('lwc').WireAdapterConstructor<Params, ApexWireResult<Result>> &
  ((...params: Record<string, never> extends Params ? [params?: Params] : [params: Params]) => Promise<Result>);

declare module '@salesforce/apex' {
  /** Re-fetches the data of a wired Apex method; pass the value the wire provided. */
  export function refreshApex(wiredValue: unknown): Promise<void>;
}

declare module 'lightning/empApi' {
  /** A streaming message; platform event fields carry the package's namespace prefix. */
  export interface EmpMessage {
    channel: string;
    data: { event: { replayId: number }; payload: Record<string, unknown> };
  }
  export interface EmpSubscription {
    channel: string;
    id?: string;
    replayId?: number;
  }
  export function subscribe(
    channel: string,
    replayId: number,
    onMessage: (message: EmpMessage) => void,
  ): Promise<EmpSubscription>;
  export function unsubscribe(subscription: EmpSubscription, onDone?: (response: unknown) => void): Promise<unknown>;
  export function onError(onFailure: (error: unknown) => void): void;
  export function isEmpEnabled(): Promise<boolean>;
}
