import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import StatsGrid from './StatsGrid.vue'
import type { Row } from '../api/client'

type StatsRow = Row<'/admin/v1/projects/{code}/attendance/punch-stats'>
type DayCell = StatsRow['days'][number]

function row(states: DayCell['state'][], hours: number[] = [], future = 0): StatsRow {
  return {
    index: 1, member_id: 7, unit_id: 1, unit_name: '青海高原建设工程有限公司', team_id: 2, team_name: '钢筋班',
    person_type: 'labour', person_type_label: '劳务人员', work_type_or_post: '钢筋工', work_status: 'active',
    work_status_label: '在职', name: '王建国', id_number: '630102********1234', phone: '138****0000',
    days: states.map((state, i) => ({ day: i + 1, date: `2026-11-${String(i + 1).padStart(2, '0')}`, state, hours: hours[i], future: i >= states.length - future })),
    attendance_days: states.filter((s) => s !== 'absent').length,
    effective_days: states.filter((s) => s === 'normal').length,
    effective_hours: hours.reduce((a, b) => a + b, 0),
  }
}

function grid(rows: StatsRow[], durations = false) {
  return mount(StatsGrid, { props: { rows, daysInMonth: rows[0].days.length, durations }, global: { plugins: [ElementPlus] }, attachTo: document.body })
}

describe('StatsGrid (打卡统计)', () => {
  it('shows green ✓ for normal, grey ✓ for abnormal and today, red X for absent', async () => {
    const w = grid([row(['normal', 'abnormal', 'today', 'absent'])])
    await new Promise((r) => setTimeout(r, 0))
    const cell = (d: number) => w.find(`[data-day="${d}"]`)
    expect(cell(1).text()).toBe('✓')
    expect(cell(1).classes()).toContain('green')
    expect(cell(2).text()).toBe('✓')
    expect(cell(2).classes()).toContain('grey')
    expect(cell(3).classes()).toContain('grey')
    expect(cell(4).text()).toBe('X')
    expect(cell(4).classes()).toContain('red')
    const text = w.text()
    expect(text).toContain('出勤天数')
    expect(text).toContain('有效出勤天数')
    w.unmount()
  })

  it('leaves the days still to come blank (not X, not 0) in both grids', async () => {
    for (const durations of [false, true]) {
      const w = grid([row(['normal', 'absent', 'absent', 'absent'], [8, 0, 0, 0], 2)], durations)
      await new Promise((r) => setTimeout(r, 0))
      expect(w.find('[data-day="1"]').exists()).toBe(true)
      expect(w.find('[data-day="2"]').text()).toBe(durations ? '0' : 'X') // a past day without punches: absent
      expect(w.find('[data-day="3"]').exists()).toBe(false)
      expect(w.find('[data-day="4"]').exists()).toBe(false)
      w.unmount()
    }
  })

  it('a punched day opens the diagnosis; an absent day does not', async () => {
    const w = grid([row(['abnormal', 'absent'])])
    await new Promise((r) => setTimeout(r, 0))
    await w.find('[data-day="2"]').trigger('click')
    expect(w.emitted('day')).toBeUndefined()
    await w.find('[data-day="1"]').trigger('click')
    const ev = w.emitted('day')!
    expect(ev).toHaveLength(1)
    expect((ev[0][1] as DayCell).date).toBe('2026-11-01')
    expect((ev[0][0] as StatsRow).member_id).toBe(7)
    w.unmount()
  })

  it('durations: green hours open the records, grey 0 means not attended', async () => {
    const w = grid([row(['normal', 'abnormal', 'absent'], [8.5, 0, 0])], true)
    await new Promise((r) => setTimeout(r, 0))
    expect(w.find('[data-day="1"]').text()).toBe('8.5')
    expect(w.find('[data-day="1"]').classes()).toContain('green')
    expect(w.find('[data-day="2"]').text()).toBe('0')
    expect(w.find('[data-day="2"]').classes()).toContain('grey')
    await w.find('[data-day="2"]').trigger('click')
    expect(w.emitted('day')).toBeUndefined()
    await w.find('[data-day="1"]').trigger('click')
    expect(w.emitted('day')).toHaveLength(1)
    expect(w.text()).toContain('有效出勤时长')
    w.unmount()
  })
})
