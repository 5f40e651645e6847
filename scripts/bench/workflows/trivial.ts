// The benchmark's ceiling for Update-with-Start: a workflow whose create Update answers at once
// and which then ends. It costs what the engine costs and nothing of Stablerail's own.
import { condition, defineUpdate, setHandler, allHandlersFinished } from '@temporalio/workflow';

export const trivialCreateUpdate = defineUpdate<{ id: string }, [string]>('trivialCreate');

export async function trivialCreateWorkflow(): Promise<void> {
  let created = false;
  setHandler(trivialCreateUpdate, (id: string) => {
    created = true;
    return { id };
  });
  await condition(() => created);
  await condition(allHandlersFinished);
}

/** The bare-start ceiling's workflow: started on a queue no worker polls, so only the start counts. */
export async function emptyWorkflow(): Promise<void> {}
