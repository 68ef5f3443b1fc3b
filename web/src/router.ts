import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from './stores/session'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    title?: string
    regulator?: boolean
    /** Company accounts only (the project's operation log: post personnel may not read it). */
    enterprise?: boolean
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
  { path: '/query', component: () => import('./views/PublicQueryView.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('./views/FrameLayout.vue'),
    children: [
      { path: 'workbench', component: () => import('./views/WorkbenchView.vue'), meta: { title: '工作台' } },
      { path: 'attendance/punch', component: () => import('./views/attendance/StatsView.vue'), props: { durations: false }, meta: { title: '打卡统计' } },
      { path: 'attendance/duration', component: () => import('./views/attendance/StatsView.vue'), props: { durations: true }, meta: { title: '出勤时长统计' } },
      { path: 'attendance/supplements', component: () => import('./views/attendance/SupplementsView.vue'), meta: { title: '考勤补录' } },
      { path: 'devices', component: () => import('./views/DevicesView.vue'), meta: { title: '设备管理' } },
      { path: 'labour/teams', component: () => import('./views/labour/TeamsView.vue'), meta: { title: '班组管理' } },
      { path: 'labour/contracts', component: () => import('./views/labour/ContractsView.vue'), meta: { title: '合同管理' } },
      { path: 'labour/binding-requests', component: () => import('./views/labour/BindingRequestsView.vue'), meta: { title: '实名绑定申请' } },
      { path: 'posts', component: () => import('./views/PostsView.vue'), meta: { title: '岗位人员管理' } },
      { path: 'roster', component: () => import('./views/RosterView.vue'), meta: { title: '项目花名册' } },
      { path: 'status-changes', component: () => import('./views/StatusChangesView.vue'), meta: { title: '项目状态变更申请' } },
      { path: 'project/units', component: () => import('./views/project/UnitsView.vue'), meta: { title: '参建单位管理' } },
      { path: 'project/materials', component: () => import('./views/project/MaterialsView.vue'), meta: { title: '项目材料管理' } },
      { path: 'project/info', component: () => import('./views/project/BasicInfoView.vue'), meta: { title: '基础信息查看' } },
      { path: 'audit', component: () => import('./views/AuditView.vue'), meta: { title: '操作日志', enterprise: true } },
      { path: 'regulator/audit', component: () => import('./views/AuditView.vue'), meta: { title: '操作日志', regulator: true } },
      { path: 'regulator/reviews', component: () => import('./views/regulator/ReviewsView.vue'), meta: { title: '状态变更审核', regulator: true } },
      { path: 'regulator/projects', component: () => import('./views/regulator/RegionProjectsView.vue'), meta: { title: '辖区项目', regulator: true } },
      { path: 'regulator/announcements', component: () => import('./views/regulator/AnnouncementsView.vue'), meta: { title: '通知公告', regulator: true } },
    ],
  },
  { path: '/:rest(.*)*', component: () => import('./views/NotFoundView.vue'), meta: { public: true } },
]

export const router = createRouter({ history: createWebHistory('/'), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const session = useSession()
  if (!session.signedIn && !(await session.load())) {
    return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  }
  // Regulators have their own screens; the project screens are the enterprises' and persons'.
  const home = session.isRegulator ? '/regulator/reviews' : '/workbench'
  if (to.path === '/' || !!to.meta.regulator !== session.isRegulator) return home
  if (to.meta.enterprise && session.me?.kind !== 'enterprise') return home
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} - 建筑工人实名制管理平台` : '建筑工人实名制管理平台'
})
