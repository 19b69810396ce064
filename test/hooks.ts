import { checkInvariants, closeTestSystem } from './system.js';

/** Mocha root hooks: the shared test database and Redis prefix live for the whole run. */
export const mochaHooks = {
  async afterAll() {
    try {
      await checkInvariants();
    } finally {
      await closeTestSystem();
    }
  },
};
