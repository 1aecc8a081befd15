// SPDX-License-Identifier: MIT
// The pages and who may open them: a route's meta.right is the API right it
// needs ("work", "configure"); without a session every page but sign-in
// sends the person to sign in first and back afterwards.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { can, loadSession } from './session'

declare module 'vue-router' {
  interface RouteMeta {
    right?: string
    public?: boolean
    title?: string
  }
}

const workspace = () => import('./views/WorkspaceView.vue')
// The landing page's code loads while the session is checked, not after.
if (typeof location !== 'undefined' && location.pathname === '/') void workspace().catch(() => undefined)

const routes: RouteRecordRaw[] = [
  { path: '/sign-in', name: 'sign-in', component: () => import('./views/SignInView.vue'), meta: { public: true, title: 'Sign in' } },
  { path: '/', name: 'workspace', component: workspace, meta: { right: 'work', title: 'Workspace' } },
  {
    path: '/conversations/:id',
    name: 'conversation',
    component: () => import('./views/ConversationView.vue'),
    props: true,
    meta: { right: 'work', title: 'Conversation' },
  },
  {
    path: '/cases/:ref',
    name: 'case',
    component: () => import('./views/CaseView.vue'),
    props: (r) => ({ caseRef: String(r.params.ref) }),
    meta: { right: 'work', title: 'Case' },
  },
  { path: '/admin', name: 'admin', component: () => import('./views/AdminView.vue'), meta: { right: 'configure', title: 'Admin centre' } },
  { path: '/admin/agent', name: 'admin-agent', component: () => import('./views/admin/AgentSettingsView.vue'), meta: { right: 'configure', title: 'Case Management Agent' } },
  { path: '/admin/fields', name: 'admin-fields', component: () => import('./views/admin/FieldsView.vue'), meta: { right: 'configure', title: 'Fields' } },
  { path: '/admin/arc-rules', name: 'admin-arc', component: () => import('./views/admin/ArcRulesView.vue'), meta: { right: 'configure', title: 'ARC rules' } },
  { path: '/admin/knowledge', name: 'admin-knowledge', component: () => import('./views/admin/KnowledgeAgentView.vue'), meta: { right: 'configure', title: 'Knowledge agent' } },
  { path: '/admin/users', name: 'admin-users', component: () => import('./views/admin/UsersView.vue'), meta: { right: 'configure', title: 'Users and roles' } },
  { path: '/admin/followup', name: 'admin-followup', component: () => import('./views/admin/FollowupView.vue'), meta: { right: 'configure', title: 'Follow-up agent' } },
  { path: '/admin/profiles', name: 'admin-profiles', component: () => import('./views/admin/ProfilesView.vue'), meta: { right: 'configure', title: 'Agent experience profiles' } },
  { path: '/knowledge', name: 'knowledge', component: () => import('./views/knowledge/KnowledgeView.vue'), meta: { right: 'work', title: 'Knowledge' } },
  {
    path: '/knowledge/articles/:ref',
    name: 'article',
    component: () => import('./views/knowledge/ArticleView.vue'),
    props: (r) => ({ articleRef: String(r.params.ref) }),
    meta: { right: 'work', title: 'Knowledge article' },
  },
  { path: '/knowledge/harvest', name: 'harvest', component: () => import('./views/knowledge/HarvestView.vue'), meta: { right: 'configure', title: 'Harvest' } },
  { path: '/insights', name: 'insights', component: () => import('./views/insights/InsightsView.vue'), meta: { right: 'reports', title: 'Insights' } },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue'), meta: { public: true, title: 'Not found' } },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const who = await loadSession()
  if (!who) return { name: 'sign-in', query: { next: to.fullPath } }
  if (to.meta.right && !can(to.meta.right)) {
    // A representative sent to an admin page lands in the workspace.
    return can('work') && to.name !== 'workspace' ? { name: 'workspace', query: { denied: String(to.meta.title || '') } } : { name: 'not-found', params: { rest: ['forbidden'] } }
  }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · caseagent` : 'caseagent'
})
