/**
 * Reply shapes of the platform, written from its handlers and services.
 *
 * TO BE REPLACED by the generated schemas (`schema.d.ts`) once the API contract issue adds
 * response schemas to the OpenAPI document; until then each interface names where it comes from.
 */

/** realname/errors.py AppError.to_dict */
export interface ApiErrorBody {
  code: string
  message: string
  field?: string
  detail?: unknown
}

/** realname/web.py page(): every list reply */
export interface Page<T> {
  data: T[]
  total: number
}

/** admin_api/auth.py me */
export interface Me {
  kind: 'enterprise' | 'regulator' | 'operator' | 'person'
  display_name: string
  projects: { code: string; name: string }[]
  post_projects?: { code: string; name: string }[]
}

/** admin_api/projects.py project_public + my_capabilities */
export interface ProjectInfo {
  code: string
  name: string
  type: string
  region_code: string
  region: string
  managing_level: string
  permit_number: string | null
  permit_authority: string | null
  cost: string | null
  status: string
  synced_at: string | null
  my_capabilities: string[]
}

/** services/signin.py create_ticket + qr_image (admin_api/auth.py), _web_view, SignIn.to_dict */
export type QrStatus = 'pending' | 'scanned' | 'confirmed' | 'cancelled' | 'expired'
export interface QrTicket {
  ticket: string
  secret: string
  status: QrStatus
  expires_in: number
  message: string
  qr_image: string
}
export interface QrView {
  ticket: string
  status: QrStatus
  message: string
  expires_in?: number
  reason?: string
  token?: string
  account?: { kind: string; display_name: string }
}

/** services/public_query.py search */
export interface PublicProject {
  name: string
  permit_number: string | null
  region: string
  status: string
  units: { name: string; credit_code: string; role: string; role_label: string }[]
  key_personnel: { role: string; role_label: string; name: string }[]
}

/** services/units.py selectable_units */
export interface UnitOption {
  id: number
  name: string
  credit_code: string
  role: string
  role_label: string
  on_site: boolean
}

/** services/labour.py team_public */
export interface Team {
  seq: number | null
  id: number
  name: string
  on_site: boolean
  status_label: string
  leader: string
  unit_id: number
  unit_name: string
  active_members: number
}

/** services/attendance.py _day_cells / _member_columns / month_stats */
export type DayState = 'normal' | 'abnormal' | 'today' | 'absent'
export interface DayCell {
  day: number
  date: string
  state: DayState
  hours?: number
}
export interface StatsRow {
  index: number
  member_id: number
  unit_id: number
  unit_name: string
  team_id: number | null
  team_name: string
  person_type: string
  person_type_label: string
  work_type_or_post: string
  work_status: string
  work_status_label: string
  name: string
  id_number: string
  phone: string
  days: DayCell[]
  attendance_days: number
  effective_days: number
  effective_hours?: number
}

/** services/attendance.py punch_public + member_day_punches */
export interface PunchView {
  id: number
  time: string
  direction: string
  direction_label: string
  status: string
  accepted: boolean
  reason: string | null
  reason_label: string | null
  source: string
  source_label: string
  device_sn: string | null
  liveness: boolean | null
  received_at: string
  photo_url: string | null
}
export interface DayDiagnosis {
  member_id: number
  date: string
  state: DayState
  state_label: string
  first_in: string | null
  last_out: string | null
  hours: number
  accepted_count: number
  rejected_count: number
  punches: PunchView[]
}

/** services/workbench.py workbench */
export interface Workbench {
  project: { code: string; name: string; status: string }
  materials: { key: string; label: string; title: string; uploaded: boolean; state_label: string }[]
  attendance: {
    date: string
    on_site_total: number
    on_site_by_person_type: { person_type: string; label: string; count: number }[]
    on_site_by_unit: { unit_id: number; unit_name: string; count: number }[]
    month: string
    attended_member_days: number
    expected_member_days: number
    attendance_rate: number
  }
  todos: { total: number; items: { key: string; label: string; count: number }[] }
  announcements: Page<Announcement>
  monthly_reports: { year: number; months: { month: number; registered: boolean; state_label: string }[] }
  my_projects: { code: string; name: string; status: string; current: boolean }[]
}

/** services/announcements.py announcement_public */
export interface Announcement {
  id: number
  title: string
  region_code: string | null
  region_name: string
  publisher: string
  published_at: string
  withdrawn: boolean
  content?: string
}

/** services/devices.py device_public (+ secret on registration) */
export interface Device {
  序号: number | null
  设备编码: string
  设备状态: string
  设备厂商: string
  设备型号: string
  最后考勤通讯时间: string | null
  最后采集通讯时间: string | null
  sn: string
  kind: string
  kind_label: string
  manufacturer: string
  model: string
  online: boolean
  forced_offline: boolean
  protocol: string
  antispoof: boolean
  firmware: string | null
  target_firmware: string | null
  upgrade_status: string
  upgrade_status_label: string
  persons: number
  faces: number
  direction_mode: string
  direction_mode_label: string
  secret?: string
}

/** services/devices.py command_admin */
export interface DeviceCommand {
  id: number
  type: string
  params: Record<string, unknown>
  status: 'pending' | 'sent' | 'done' | 'failed' | 'timeout' | 'canceled'
  attempts: number
  max_attempts: number
  result: string | null
  created_by: string
  created_at: string
  sent_at: string | null
  finished_at: string | null
  expires_at: string | null
}

/** services/labour.py person_fields */
export interface PersonFields {
  person_id: number
  name: string
  gender: string
  id_number: string
  phone: string
  has_face: boolean
  enrolled: boolean
}
/** services/labour.py search_person */
export interface PersonSearch extends PersonFields {
  membership: { member_id: number; person_type: string; work_status: string; work_status_label: string } | null
}

/** services/labour.py member_public (+ contracts.contract_states) */
export interface Member extends PersonFields {
  id: number
  seq?: number
  person_type: string
  person_type_label: string
  unit_id: number
  unit_name: string
  team_id: number | null
  team_name: string
  work_type: string
  post: string
  post_label: string
  work_status: string
  work_status_label: string
  entry_date: string | null
  exit_date: string | null
  bank_name: string
  bank_card: string
  bank_branch_code: string
  migrated: boolean
  incomplete_fields: string[]
  contract_status?: string
  contract_status_label?: string
  contract_warning?: 'yellow' | 'orange' | 'red' | null
  contract_warning_label?: string
  days_since_entry?: number
}

/** services/team_import.py import_members */
export interface ImportResult {
  total: number
  imported: number
  failed: number
  member_ids: number[]
  errors: { row: number; field: string; column: string; message: string }[]
}

/** services/contracts.py contract_public */
export interface Contract {
  seq: number | null
  id: number
  member_id: number
  number: string
  name: string
  id_number: string
  phone: string
  gender: string
  party_a: string
  start_date: string | null
  end_date: string | null
  status: string
  status_label: string
  termination_type: string | null
  termination_reason: string | null
  termination_initiated_at: string | null
  termination_confirmed_at: string | null
  attachment: { id: number; name: string } | null
  uploaded_at: string
}

/** services/files.py file_public */
export interface FileRef {
  id: number
  name: string
  size: number
  content_type: string
  url: string | null
}

/** services/supplement.py request_public */
export type ChainStatus = 'approved' | 'rejected' | 'current' | 'waiting'
export interface ChainNode {
  node: string
  label: string
  status: ChainStatus
}
export interface ChainDecision {
  node: string
  label: string
  approve: boolean
  comment: string
  actor_name: string
  decided_at: string
}
export interface Supplement {
  id: number
  project_code: string
  project_name: string
  member: { id: number; name: string; id_number: string }
  date: string
  in_time: string | null
  out_time: string | null
  reason: string
  evidence: FileRef[]
  state: string
  state_label: string
  current_node: string | null
  current_node_label: string | null
  chain: ChainNode[]
  history: ChainDecision[]
  requester_name: string
  created_at: string
  decided_at: string | null
}

/** services/roster.py roster_row / list_roster */
export interface RosterRow extends Member {
  face_missing: boolean
}
export interface RosterPage extends Page<RosterRow> {
  missing_face_count: number
  notice: string
}

/** services/status_change.py _public_many */
export interface StatusChange {
  id: number
  from_status: string
  to_status: string
  state: string
  state_label: string
  current_reviewer: string
  initiator: string
  created_at: string
  decided_at: string | null
  reason: string
  project?: { code: string; name: string; status: string }
  files?: FileRef[]
  reviews?: {
    seq: number
    level: string
    step_label: string
    region_code: string
    region_name: string
    state: string
    state_label: string
    reviewer: string | null
    notes: string | null
    decided_at: string | null
  }[]
}

/** admin_api/posts.py post_options */
export interface PostOptions {
  categories: { category: string; label: string; posts: { code: string; label: string }[] }[]
  units: { id: number; name: string; role: string; role_label: string; on_site: boolean }[]
}
/** services/posts.py duty record public */
export interface DutyRecord {
  seq: number
  id: number
  kind: string
  kind_label: string
  duty_date: string
  host_member_id: number
  host_name: string
  host_post: string
  content: string
  file: { id: number; name: string } | null
  registered_by: string
  registered_at: string
}

/** services/units.py unit row (参建单位管理) */
export interface Unit {
  seq?: number
  id: number
  enterprise_name: string
  credit_code: string
  role: string
  role_label: string
  site_lead: string
  site_lead_phone: string
  participant_count: number
  on_site: boolean
  on_site_label: string
  entry_date: string | null
  exit_date: string | null
  specialty: string
  region_code: string
  registered_on: string | null
  contract: FileRef | null
  contract_registered_at: string | null
  synced: boolean
}

/** services/materials.py voucher_public */
export interface Voucher {
  seq?: number
  id: number
  kind: 'contract' | 'receipt' | 'payment'
  kind_label: string
  month: string
  unit_id: number
  unit_name: string
  number: string
  counterparty: string
  amount: string
  date: string
  file: FileRef | null
  registered_by: string
  registered_at: string
}
/** services/materials.py month_overview / report_detail */
export interface ReportMonth {
  year: number
  month: number
  registered: boolean
  state_label: string
  item_count: number
  registered_by: string
  registered_at: string | null
}
export interface ReportDetail {
  id: number
  year: number
  month: number
  note: string
  registered_by: string
  registered_at: string
  contracts: Voucher[]
  receipts: Voucher[]
  payments: Voucher[]
}
/** services/materials.py wage_materials */
export interface WageField {
  key: string
  label: string
  type: 'text' | 'unit' | 'percent' | 'amount' | 'date' | 'branch_code' | 'choice'
  required: boolean
  choices?: string[]
}
export interface WageKind {
  kind: string
  label: string
  description: string
  file_label: string
  fields: WageField[]
  count: number
  data: (Record<string, unknown> & { seq: number; id: number; file: FileRef | null; registered_by: string; registered_at: string })[]
}
export interface WageMaterials {
  counts: Record<string, number>
  kinds: WageKind[]
}

/** services/audit_view.py _public (操作日志) */
export interface AuditEntry {
  id: number
  at: string
  actor_kind: string
  actor_role: string
  actor_name: string
  action: string
  action_label: string
  target: string
  target_label: string
  masked: boolean | null
  masked_label: string
  ip: string | null
  detail: Record<string, unknown>
}
