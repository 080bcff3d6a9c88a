import { LightningElement, wire } from 'lwc';
import { refreshApex } from '@salesforce/apex';
import { subscribe, unsubscribe, onError } from 'lightning/empApi';
import getAdminView from '@salesforce/apex/InboxAdminController.getAdminView';
import savePolicy from '@salesforce/apex/InboxAdminController.savePolicy';
import TITLE from '@salesforce/label/c.Inbox_Admin_Title';
import DESCRIPTION from '@salesforce/label/c.Inbox_Admin_Description';
import EMPTY from '@salesforce/label/c.Inbox_Admin_Empty';
import LOAD_ERROR from '@salesforce/label/c.Inbox_Admin_Load_Error';
import NEW_POLICY from '@salesforce/label/c.Inbox_Admin_New_Policy';
import EDIT_POLICY_OF from '@salesforce/label/c.Inbox_Admin_Edit_Policy_Of';
import REFRESH from '@salesforce/label/c.Inbox_Admin_Refresh';
import TABLE_CAPTION from '@salesforce/label/c.Inbox_Admin_Table_Caption';
import COLUMN_INBOX from '@salesforce/label/c.Inbox_Column_Inbox';
import COLUMN_POLICY from '@salesforce/label/c.Inbox_Column_Policy';
import COLUMN_LINK_STATE from '@salesforce/label/c.Inbox_Column_Link_State';
import COLUMN_LAST_SUCCESS from '@salesforce/label/c.Inbox_Column_Last_Success';
import COLUMN_LAST_ERROR from '@salesforce/label/c.Inbox_Column_Last_Error';
import COLUMN_COUNTS from '@salesforce/label/c.Inbox_Column_Counts';
import COLUMN_ACTIONS from '@salesforce/label/c.Inbox_Column_Actions';
import POLICY_NONE from '@salesforce/label/c.Inbox_Policy_None';
import POLICY_ACTIVE from '@salesforce/label/c.Inbox_Policy_Active';
import POLICY_INACTIVE from '@salesforce/label/c.Inbox_Policy_Inactive';
import POLICY_BODY_FIRST_N from '@salesforce/label/c.Inbox_Policy_Body_First_N';
import POLICY_DEFAULT_OWNER from '@salesforce/label/c.Inbox_Policy_Default_Owner';
import HEALTH_NOT_REPORTED from '@salesforce/label/c.Inbox_Health_Not_Reported';
import HEALTH_NEVER from '@salesforce/label/c.Inbox_Health_Never';
import HEALTH_REPORTED_AT from '@salesforce/label/c.Inbox_Health_Reported_At';
import HEALTH_SYNCED from '@salesforce/label/c.Inbox_Health_Synced';
import HEALTH_PENDING from '@salesforce/label/c.Inbox_Health_Pending';
import HEALTH_FAILED from '@salesforce/label/c.Inbox_Health_Failed';
import HEALTH_UNMATCHED from '@salesforce/label/c.Inbox_Health_Unmatched';
import EDITOR_TITLE_NEW from '@salesforce/label/c.Inbox_Editor_Title_New';
import EDITOR_TITLE_EDIT from '@salesforce/label/c.Inbox_Editor_Title_Edit';
import FIELD_INBOX_ID from '@salesforce/label/c.Inbox_Field_Inbox_Id';
import FIELD_INBOX_NAME from '@salesforce/label/c.Inbox_Field_Inbox_Name';
import FIELD_ACTIVE from '@salesforce/label/c.Inbox_Field_Active';
import FIELD_TARGET from '@salesforce/label/c.Inbox_Field_Target';
import FIELD_BODY_CAPTURE from '@salesforce/label/c.Inbox_Field_Body_Capture';
import FIELD_BODY_MAX_CHARS from '@salesforce/label/c.Inbox_Field_Body_Max_Chars';
import FIELD_DEFAULT_OWNER from '@salesforce/label/c.Inbox_Field_Default_Owner';
import FIELD_DEFAULT_OWNER_HELP from '@salesforce/label/c.Inbox_Field_Default_Owner_Help';
import SAVE from '@salesforce/label/c.Inbox_Editor_Save';
import CANCEL from '@salesforce/label/c.Inbox_Editor_Cancel';
import DEPLOY_IN_PROGRESS from '@salesforce/label/c.Inbox_Deploy_In_Progress';
import DEPLOY_SUCCEEDED from '@salesforce/label/c.Inbox_Deploy_Succeeded';
import DEPLOY_FAILED from '@salesforce/label/c.Inbox_Deploy_Failed';
import DEPLOY_STILL_RUNNING from '@salesforce/label/c.Inbox_Deploy_Still_Running';
import UNKNOWN_ERROR from '@salesforce/label/c.Inbox_Error_Unknown';
import LOADING from '@salesforce/label/c.Inbox_Loading';
import READ_ONLY from '@salesforce/label/c.Inbox_Admin_Read_Only';
import { errorMessage, formatLabel, payloadField } from 'c/inboxUtils';

type EmpMessage = import('lightning/empApi').EmpMessage;
type EmpSubscription = import('lightning/empApi').EmpSubscription;
type AdminView = Apex.InboxPolicyService.AdminView;
type InboxRow = Apex.InboxPolicyService.InboxRow;
type PolicyInput = Apex.InboxPolicyService.PolicyInput;

/** How long a deployment may run before the view says it is taking longer than usual. */
const DEPLOYMENT_PATIENCE_MS = 120_000;
const SUCCEEDED = 'Succeeded';
const FIRST_N = 'First_N';
const NEW_POLICY_DEFAULTS: PolicyInput = {
  inboxId: '',
  inboxName: '',
  active: true,
  target: 'Contact_Then_Lead',
  bodyCapture: 'Full',
  bodyMaxChars: null,
  defaultOwnerId: '',
};

interface Option {
  label: string;
  value: string;
}

type DeploymentState = 'idle' | 'inProgress' | 'succeeded' | 'failed' | 'slow';

interface DeploymentResult {
  outcome: string;
  message: string;
}

/** A row as the template shows it. */
interface DisplayRow {
  inboxId: string;
  inboxName: string;
  editLabel: string;
  hasPolicy: boolean;
  policyStateLabel: string;
  policyBadgeClass: string;
  policyTarget: string;
  policyBody: string;
  policyOwner: string;
  hasHealth: boolean;
  linkState: string;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  lastErrorMessage: string;
  reportedAt: string;
  counts: Array<{ key: string; label: string; value: number }>;
}

/**
 * The Salesforce admin's view of the Re:lation link: every inbox's link policy next to the sync
 * health the bridge reports, and an editor that saves a policy as a custom metadata deployment
 * and follows the deployment to its result.
 */
export default class InboxAdminConsole extends LightningElement {
  view?: AdminView;
  loadError?: string;
  isLoading = true;
  isEditing = false;
  isExistingPolicy = false;
  draft: PolicyInput = { ...NEW_POLICY_DEFAULTS };
  editorError?: string;
  isSaving = false;
  deploymentState: DeploymentState = 'idle';
  deploymentMessage = '';

  readonly labels = {
    title: TITLE,
    description: DESCRIPTION,
    empty: EMPTY,
    newPolicy: NEW_POLICY,
    refresh: REFRESH,
    tableCaption: TABLE_CAPTION,
    columnInbox: COLUMN_INBOX,
    columnPolicy: COLUMN_POLICY,
    columnLinkState: COLUMN_LINK_STATE,
    columnLastSuccess: COLUMN_LAST_SUCCESS,
    columnLastError: COLUMN_LAST_ERROR,
    columnCounts: COLUMN_COUNTS,
    columnActions: COLUMN_ACTIONS,
    policyNone: POLICY_NONE,
    healthNotReported: HEALTH_NOT_REPORTED,
    healthNever: HEALTH_NEVER,
    healthReportedAt: HEALTH_REPORTED_AT,
    fieldInboxId: FIELD_INBOX_ID,
    fieldInboxName: FIELD_INBOX_NAME,
    fieldActive: FIELD_ACTIVE,
    fieldTarget: FIELD_TARGET,
    fieldBodyCapture: FIELD_BODY_CAPTURE,
    fieldBodyMaxChars: FIELD_BODY_MAX_CHARS,
    fieldDefaultOwner: FIELD_DEFAULT_OWNER,
    fieldDefaultOwnerHelp: FIELD_DEFAULT_OWNER_HELP,
    save: SAVE,
    cancel: CANCEL,
    loading: LOADING,
    readOnly: READ_ONLY,
  };

  private wiredView?: ApexWireResult<AdminView>;
  private subscription?: EmpSubscription;
  private subscribing = false;
  private pendingJobId?: string;
  private readonly earlyResults = new Map<string, DeploymentResult>();
  private patienceTimer?: ReturnType<typeof setTimeout>;

  @wire(getAdminView)
  wiredAdminView(result: ApexWireResult<AdminView>): void {
    this.wiredView = result;
    if (result.data) {
      this.view = result.data;
      this.loadError = undefined;
      this.isLoading = false;
      this.subscribeToDeployments(result.data.deploymentChannel);
    } else if (result.error) {
      this.loadError = errorMessage(result.error, LOAD_ERROR);
      this.isLoading = false;
    }
  }

  override disconnectedCallback(): void {
    clearTimeout(this.patienceTimer);
    if (this.subscription) {
      unsubscribe(this.subscription).catch(() => undefined);
      this.subscription = undefined;
    }
  }

  get rows(): DisplayRow[] {
    return (this.view?.inboxes ?? []).map((row) => toDisplayRow(row));
  }

  get isEmpty(): boolean {
    return this.rows.length === 0;
  }

  get targetOptions(): Option[] {
    return toOptions(this.view?.targetOptions);
  }

  get bodyCaptureOptions(): Option[] {
    return toOptions(this.view?.bodyCaptureOptions);
  }

  get showsBodyMaxChars(): boolean {
    return this.draft.bodyCapture === FIRST_N;
  }

  get editorTitle(): string {
    return this.isExistingPolicy
      ? formatLabel(EDITOR_TITLE_EDIT, this.draft.inboxName || this.draft.inboxId || '')
      : EDITOR_TITLE_NEW;
  }

  get hasDeploymentMessage(): boolean {
    return this.deploymentMessage.length > 0;
  }

  get deploymentClass(): string {
    const tone =
      this.deploymentState === 'succeeded'
        ? 'slds-theme_success'
        : this.deploymentState === 'failed'
          ? 'slds-theme_error'
          : this.deploymentState === 'slow'
            ? 'slds-theme_warning'
            : 'slds-theme_info';
    return `deployment-message slds-box slds-box_x-small slds-m-bottom_small ${tone}`;
  }

  /** Saving deploys metadata: only users with the package's custom permission get the editor. */
  get canManagePolicies(): boolean {
    return this.view?.canManagePolicies === true;
  }

  /** Loaded, and the running user may look but not change. */
  get isReadOnly(): boolean {
    return this.view !== undefined && !this.canManagePolicies;
  }

  get saveDisabled(): boolean {
    return this.isSaving || this.deploymentState === 'inProgress';
  }

  handleNewPolicy(): void {
    this.openEditor({ ...NEW_POLICY_DEFAULTS }, false);
  }

  handleEdit(event: Event): void {
    const inboxId = event.currentTarget instanceof HTMLElement ? event.currentTarget.dataset.inboxId : undefined;
    const row = this.view?.inboxes?.find((candidate) => candidate.inboxId === inboxId);
    if (!row) {
      return;
    }
    const policy = row.policy;
    this.openEditor(
      {
        inboxId: row.inboxId,
        inboxName: row.inboxName ?? '',
        active: policy ? policy.active !== false : true,
        target: policy?.target ?? NEW_POLICY_DEFAULTS.target,
        bodyCapture: policy?.bodyCapture ?? NEW_POLICY_DEFAULTS.bodyCapture,
        bodyMaxChars: policy?.bodyMaxChars ?? null,
        defaultOwnerId: policy?.defaultOwnerId ?? '',
      },
      true,
    );
  }

  handleCancel(): void {
    this.isEditing = false;
    this.editorError = undefined;
  }

  handleRefresh(): Promise<void> {
    return refreshApex(this.wiredView);
  }

  handleDraftChange(event: CustomEvent<{ value?: string; checked?: boolean }>): void {
    const field = event.target instanceof HTMLElement ? event.target.dataset.field : undefined;
    if (field === 'active') {
      this.draft = { ...this.draft, active: event.detail.checked === true };
    } else if (field === 'bodyMaxChars') {
      const text = event.detail.value ?? '';
      this.draft = { ...this.draft, bodyMaxChars: text === '' ? null : Number(text) };
    } else if (field === 'inboxId' || field === 'inboxName' || field === 'target' || field === 'bodyCapture') {
      this.draft = { ...this.draft, [field]: event.detail.value ?? '' };
    } else if (field === 'defaultOwnerId') {
      this.draft = { ...this.draft, defaultOwnerId: event.detail.value ?? '' };
    }
  }

  async handleSave(): Promise<void> {
    this.isSaving = true;
    this.editorError = undefined;
    try {
      const deployment = await savePolicy({
        policy: {
          ...this.draft,
          bodyMaxChars: this.draft.bodyCapture === FIRST_N ? this.draft.bodyMaxChars : null,
        },
      });
      this.isEditing = false;
      this.followDeployment(deployment.jobId ?? '');
    } catch (error) {
      this.editorError = errorMessage(error, UNKNOWN_ERROR);
    } finally {
      this.isSaving = false;
    }
  }

  private openEditor(draft: PolicyInput, isExistingPolicy: boolean): void {
    if (!this.canManagePolicies) {
      return;
    }
    this.draft = draft;
    this.isExistingPolicy = isExistingPolicy;
    this.editorError = undefined;
    this.isEditing = true;
  }

  private followDeployment(jobId: string): void {
    this.pendingJobId = jobKey(jobId);
    this.deploymentState = 'inProgress';
    this.deploymentMessage = DEPLOY_IN_PROGRESS;
    clearTimeout(this.patienceTimer);
    // A deployment result arrives as a platform event; if none has come after a while, say so
    // rather than leaving the admin looking at "saving" forever.
    // eslint-disable-next-line @lwc/lwc/no-async-operation
    this.patienceTimer = setTimeout(() => {
      if (this.deploymentState === 'inProgress') {
        this.deploymentState = 'slow';
        this.deploymentMessage = DEPLOY_STILL_RUNNING;
      }
    }, DEPLOYMENT_PATIENCE_MS);
    const early = this.earlyResults.get(this.pendingJobId);
    if (early) {
      this.finishDeployment(early);
    }
  }

  private readonly handleDeploymentMessage = (message: EmpMessage): void => {
    const payload = message.data.payload;
    const jobId = jobKey(String(payloadField(payload, 'Job_Id__c') ?? ''));
    const result: DeploymentResult = {
      outcome: String(payloadField(payload, 'Status__c') ?? ''),
      message: String(payloadField(payload, 'Message__c') ?? ''),
    };
    if (jobId === this.pendingJobId) {
      this.finishDeployment(result);
    } else if (jobId) {
      // The event can overtake the save call's answer; keep it until the job id is known.
      this.earlyResults.set(jobId, result);
    }
  };

  private finishDeployment(result: DeploymentResult): void {
    clearTimeout(this.patienceTimer);
    this.pendingJobId = undefined;
    this.earlyResults.clear();
    if (result.outcome === SUCCEEDED) {
      this.deploymentState = 'succeeded';
      this.deploymentMessage = DEPLOY_SUCCEEDED;
      refreshApex(this.wiredView).catch(() => undefined);
    } else {
      this.deploymentState = 'failed';
      this.deploymentMessage = formatLabel(DEPLOY_FAILED, result.message || result.outcome);
    }
  }

  private subscribeToDeployments(channel: string | null | undefined): void {
    if (!channel || this.subscription || this.subscribing) {
      return;
    }
    this.subscribing = true;
    onError(this.handleStreamingError);
    subscribe(channel, -1, this.handleDeploymentMessage)
      .then((subscription) => {
        this.subscription = subscription;
      })
      .catch(this.handleStreamingError)
      .finally(() => {
        this.subscribing = false;
      });
  }

  private readonly handleStreamingError = (error: unknown): void => {
    if (this.deploymentState === 'inProgress') {
      this.deploymentState = 'failed';
      this.deploymentMessage = formatLabel(DEPLOY_FAILED, errorMessage(error, UNKNOWN_ERROR));
    }
  };
}

/** Deployment ids compare on their 15-character form: the event may carry either length. */
function jobKey(jobId: string): string {
  return jobId.slice(0, 15);
}

function toOptions(options: Apex.PicklistOptions.Option[] | null | undefined): Option[] {
  return (options ?? []).map((option) => ({ label: option.label ?? '', value: option.value ?? '' }));
}

function toDisplayRow(row: InboxRow): DisplayRow {
  const inboxId = row.inboxId ?? '';
  const inboxName = row.inboxName ?? inboxId;
  // Apex leaves out a null property: a missing policy or health is the same as a null one.
  const policy = row.policy ?? null;
  const health = row.health ?? null;
  const active = policy?.active !== false;
  return {
    inboxId,
    inboxName,
    editLabel: formatLabel(EDIT_POLICY_OF, inboxName),
    hasPolicy: policy !== null,
    policyStateLabel: active ? POLICY_ACTIVE : POLICY_INACTIVE,
    policyBadgeClass: active ? 'policy-state slds-theme_success' : 'policy-state slds-theme_warning',
    policyTarget: policy?.targetLabel ?? policy?.target ?? '',
    policyBody:
      policy?.bodyCapture === FIRST_N
        ? formatLabel(POLICY_BODY_FIRST_N, policy.bodyMaxChars ?? 0)
        : (policy?.bodyCaptureLabel ?? policy?.bodyCapture ?? ''),
    policyOwner: policy?.defaultOwnerId
      ? formatLabel(POLICY_DEFAULT_OWNER, policy.defaultOwnerName ?? policy.defaultOwnerId)
      : '',
    hasHealth: health !== null,
    linkState: health ? (health.linkStateLabel ?? health.linkState ?? '') : HEALTH_NOT_REPORTED,
    lastSuccessAt: health?.lastSuccessAt ?? null,
    lastErrorAt: health?.lastErrorAt ?? null,
    lastErrorMessage: health?.lastErrorMessage ?? '',
    reportedAt: health?.reportedAt ?? '',
    counts: health
      ? [
          { key: 'synced', label: HEALTH_SYNCED, value: health.synced24h ?? 0 },
          { key: 'pending', label: HEALTH_PENDING, value: health.pending ?? 0 },
          { key: 'failed', label: HEALTH_FAILED, value: health.failed24h ?? 0 },
          { key: 'unmatched', label: HEALTH_UNMATCHED, value: health.unmatched24h ?? 0 },
        ]
      : [],
  };
}
