import { auditRepository, type AuditFilter } from '../../db/repositories/audit.js';
import type { Deps } from '../context.js';
import type { Actor } from '../model/actors.js';
import { paginate, type PageRequest } from '../pagination.js';

/** The audit log, oldest first; an operator reads only what happened to its own objects. */
export const listAuditEntries = ({ db }: Deps, actor: Actor, request: PageRequest & AuditFilter) =>
  paginate(request, (keyset) =>
    auditRepository.list(db, {
      ...keyset,
      filter: { ...request, operatorId: actor.kind === 'operator' ? actor.operatorId : request.operatorId },
    }),
  );
