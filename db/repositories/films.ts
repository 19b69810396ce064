import { crudRepository } from '../crud.js';

export type FilmRow = {
  id: number;
  title: string;
  durationMinutes: number;
  description: string | null;
  ageRating: string | null;
  createdAt: Date;
  updatedAt: Date;
};
export type FilmWrite = Omit<FilmRow, 'id' | 'createdAt' | 'updatedAt'>;

export const filmsRepository = crudRepository<FilmRow, FilmWrite>({
  table: 'films',
  columns: [
    'id',
    'title',
    'duration_minutes as durationMinutes',
    'description',
    'age_rating as ageRating',
    'created_at as createdAt',
    'updated_at as updatedAt',
  ],
  writable: {
    title: 'title',
    durationMinutes: 'duration_minutes',
    description: 'description',
    ageRating: 'age_rating',
  },
});
