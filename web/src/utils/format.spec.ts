import { describe, expect, it } from 'vitest'
import { localTime } from './format'

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
