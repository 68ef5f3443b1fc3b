import { describe, expect, it } from 'vitest'
import { attendanceRate, localTime } from './format'

describe('localTime (times in the project zone, Asia/Shanghai)', () => {
  it('shows an instant as Beijing time whatever the browser zone', () => {
    expect(localTime('2026-11-30T16:30:05Z')).toBe('2026-12-01 00:30:05')
    expect(localTime('2026-11-30T08:00:00+08:00')).toBe('2026-11-30 08:00:00')
    expect(localTime(0)).toBe('1970-01-01 08:00:00')
  })
  it('leaves what is not a time as it is, and nothing as nothing', () => {
    expect(localTime(null)).toBe('')
    expect(localTime('')).toBe('')
    expect(localTime('长期')).toBe('长期')
  })
})

describe('attendanceRate', () => {
  it('is a dash while no member-day is expected yet, a percentage after', () => {
    expect(attendanceRate({ attendance_rate: 0, expected_member_days: 0 })).toBe('—')
    expect(attendanceRate({ attendance_rate: 0, expected_member_days: 12 })).toBe('0.0%')
    expect(attendanceRate({ attendance_rate: 0.4286, expected_member_days: 7 })).toBe('42.9%')
  })
})
