/**
 * Who a tool call acts for. Every Council tool is built for one context, so budget, cost rows, audit rows
 * and events land on the right workspace and run whatever the model asks the tool to do. Snake case,
 * because it is the shape agents and the API speak.
 */
export interface ToolContext {
  workspace_id: string;
  actor_user_id?: string;
  agent_id?: string;
  agent_run_id?: string;
  correlation_id?: string;
}
