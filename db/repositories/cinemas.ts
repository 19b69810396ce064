import { crudRepository } from '../crud.js';

export type Prices = Record<string, number>;
export type CinemaRow = {
  id: number;
  cityId: number;
  name: string;
  address: string | null;
  timezone: string;
  currency: string;
  defaultPrices: Prices;
  /** The operator owning the cinema; null for the platform's own. */
  operatorId: number | null;
  createdAt: Date;
  updatedAt: Date;
};
export type CinemaWrite = Omit<CinemaRow, 'id' | 'createdAt' | 'updatedAt'>;

export const cinemasRepository = crudRepository<CinemaRow, CinemaWrite, { cityId: number; operatorId: number }>({
  table: 'cinemas',
  columns: [
    'id',
    'city_id as cityId',
    'name',
    'address',
    'timezone',
    'currency',
    'default_prices as defaultPrices',
    'operator_id as operatorId',
    'created_at as createdAt',
    'updated_at as updatedAt',
  ],
  writable: {
    cityId: 'city_id',
    name: 'name',
    address: 'address',
    timezone: 'timezone',
    currency: 'currency',
    defaultPrices: 'default_prices',
    operatorId: 'operator_id',
  },
  filters: { cityId: 'city_id', operatorId: 'operator_id' },
});
