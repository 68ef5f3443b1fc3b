/** Times are shown in the project's local time (Asia/Shanghai), whatever the browser's zone. */
const TZ = 'Asia/Shanghai'

export function localTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return ''
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  const parts = new Intl.DateTimeFormat('zh-CN', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).formatToParts(d)
  const get = (t: string) => parts.find((p) => p.type === t)?.value || ''
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`
}

/** Today's date (YYYY-MM-DD) and month (YYYY-MM) in the project's zone. */
export function today(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date())
}
export function thisMonth(): string {
  return today().slice(0, 7)
}

/** A month's attendance rate as people read it: "—" while no member-day is expected yet (a
 * month's first morning, before anyone has punched), else a percentage with one decimal. */
export function attendanceRate(s: { attendance_rate: number; expected_member_days: number }): string {
  return s.expected_member_days ? `${(s.attendance_rate * 100).toFixed(1)}%` : '—'
}
