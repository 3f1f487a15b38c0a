import { Route, Routes } from 'react-router';
import { NotFoundPage } from '../ui/NotFoundPage';
import { JobEditor } from './JobEditor';
import { JobList } from './JobList';
import { JobRuns } from './JobRuns';
import { RunLog } from './RunLog';

/** Configuration > Jobs (seed 003): the list, the editor, a job's runs and a run's log. */
export function JobsPage() {
  return (
    <Routes>
      <Route index element={<JobList />} />
      <Route path="new" element={<JobEditor />} />
      <Route path=":id/edit" element={<JobEditor />} />
      <Route path=":id/runs" element={<JobRuns />} />
      <Route path="runs/:runId" element={<RunLog />} />
      <Route path="*" element={<NotFoundPage what="page" />} />
    </Routes>
  );
}
