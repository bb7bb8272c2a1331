/** The seven prompt templates and the phase each belongs to (payload.md). */
export const TEMPLATE_PHASES = {
  ticket_research: 'research',
  ticket_research_revision_task: 'research',
  ticket_planning_with_research: 'planning',
  ticket_planning_without_research: 'planning',
  ticket_planning_revision_task: 'planning',
  ticket_developing: 'execution',
  claw_scheduled_task: 'claw',
} as const;

export type Template = keyof typeof TEMPLATE_PHASES;
export type Phase = (typeof TEMPLATE_PHASES)[Template];
export const TEMPLATES = Object.keys(TEMPLATE_PHASES) as [Template, ...Template[]];

export function phaseOf(template: Template): Phase {
  return TEMPLATE_PHASES[template];
}
