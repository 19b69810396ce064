import { crudRepository } from '../crud.js';

export type CityRow = { id: number; name: string; createdAt: Date; updatedAt: Date };
export type CityWrite = { name: string };

export const citiesRepository = crudRepository<CityRow, CityWrite>({
  table: 'cities',
  columns: ['id', 'name', 'created_at as createdAt', 'updated_at as updatedAt'],
  writable: { name: 'name' },
});
