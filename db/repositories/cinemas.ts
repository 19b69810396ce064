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
  createdAt: Date;
  updatedAt: Date;
};
export type CinemaWrite = Omit<CinemaRow, 'id' | 'createdAt' | 'updatedAt'>;

export const cinemasRepository = crudRepository<CinemaRow, CinemaWrite, { cityId: number }>({
  table: 'cinemas',
  columns: [
    'id',
    'city_id as cityId',
    'name',
    'address',
    'timezone',
    'currency',
    'default_prices as defaultPrices',
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
  },
  filters: { cityId: 'city_id' },
});
