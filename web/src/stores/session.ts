import { defineStore } from 'pinia'
import { api, setBearer } from '../api/client'
import type { Reply } from '../api/client'

type Me = Reply<'/admin/v1/auth/me'>
type ProjectInfo = Reply<'/admin/v1/projects/{code}'>

const PROJECT_KEY = 'realname.project'

/** Who is signed in and which project the screens show (点击项目名称可切换项目). */
export const useSession = defineStore('session', {
  state: () => ({
    me: null as Me | null,
    projectCode: localStorage.getItem(PROJECT_KEY) || '',
    project: null as ProjectInfo | null,
  }),
  getters: {
    signedIn: (s) => s.me !== null,
    isRegulator: (s) => s.me?.kind === 'regulator',
    caps: (s) => new Set(s.project?.my_capabilities || []),
    /** May change the project's data (its API answers the others 403): the GC and the
     * subcontractors' companies, and post personnel whose post manages (项目经理, 劳务员, 总监…);
     * a post that only views (安全员, 总监理工程师代表…) is offered no action that would fail. */
    canManage: (s) => (s.project?.my_capabilities || []).includes('manage'),
  },
  actions: {
    async load(): Promise<boolean> {
      try {
        this.me = await api.get('/admin/v1/auth/me')
      } catch {
        this.me = null
        return false
      }
      const codes = this.me.projects.map((p) => p.code)
      if (!codes.includes(this.projectCode)) this.projectCode = codes[0] || ''
      if (this.projectCode) await this.switchTo(this.projectCode)
      return true
    },
    async switchTo(code: string) {
      this.projectCode = code
      localStorage.setItem(PROJECT_KEY, code)
      this.project = await api.get('/admin/v1/projects/{code}', { path: { code } })
    },
    async logout() {
      try {
        await api.post('/admin/v1/auth/logout')
      } finally {
        setBearer(null)
        this.me = null
        this.project = null
      }
    },
  },
})
