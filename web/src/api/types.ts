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
