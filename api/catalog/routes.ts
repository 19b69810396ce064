import { z } from 'zod';
import { createCinema, deleteCinema, getCinema, listCinemas, updateCinema } from '../../domain/catalog/cinemas.js';
import { createCity, deleteCity, getCity, listCities, updateCity } from '../../domain/catalog/cities.js';
import { createFilm, deleteFilm, getFilm, listFilms, updateFilm } from '../../domain/catalog/films.js';
import { createHall, deleteHall, getHall, listHalls, updateHall } from '../../domain/catalog/halls.js';
import {
  cinemasOfCity,
  hallsOfCinema,
  showingsOfCinema,
  showingsOfFilm,
  showingsOfHall,
} from '../../domain/catalog/relations.js';
import { getSchedule } from '../../domain/catalog/schedule.js';
import {
  createShowing,
  deleteShowing,
  getShowing,
  listShowings,
  updateShowing,
} from '../../domain/catalog/showings.js';
import type { Deps } from '../../domain/context.js';
import type { ErrorCode } from '../../domain/errors.js';
import type { Actor } from '../../domain/model/actors.js';
import type { PageRequest } from '../../domain/pagination.js';
import { defineRoute, tagged, taggedHeaders, type Route } from '../http/route.js';
import { conditional, id, idParams, page, pageQuery } from '../http/schemas.js';
import { crudRoutes } from './crud-routes.js';
import * as schemas from './schemas.js';

/**
 * GET /parents/:id/children: the children of one parent, 404 when the parent does not exist. An
 * operator's key sees only its own cinemas' children (and its own cinemas as parents).
 */
function relationRoute(spec: {
  path: string;
  tag: string;
  summary: string;
  query: z.ZodRawShape;
  item: z.ZodType;
  parentNotFound: ErrorCode;
  list: (deps: Deps, parentId: number, request: PageRequest, viewer?: Actor) => Promise<unknown>;
}): Route {
  return defineRoute({
    method: 'get',
    path: spec.path,
    tag: spec.tag,
    summary: spec.summary,
    operatorView: true,
    params: idParams,
    query: z.strictObject(spec.query),
    response: page(spec.item),
    errors: [spec.parentNotFound, 'INVALID_CURSOR'],
    handler: ({ params, query, actor }, deps) => spec.list(deps, params.id, query as PageRequest, actor),
  });
}

const showingQueryWithoutParent = (parent: 'filmId' | 'hallId' | 'cinemaId') => {
  const { [parent]: _parent, ...rest } = schemas.showingFilters;
  return rest;
};

export const catalogRoutes: Route[] = [
  ...crudRoutes({
    tag: 'Cities',
    path: '/cities',
    noun: 'city',
    entity: schemas.city,
    fields: schemas.cityFields,
    notFound: 'CITY_NOT_FOUND',
    writeErrors: ['CITY_NAME_TAKEN'],
    deleteErrors: ['CITY_HAS_CINEMAS'],
    list: listCities,
    get: getCity,
    create: createCity,
    update: updateCity,
    remove: deleteCity,
  }),
  relationRoute({
    path: '/cities/:id/cinemas',
    tag: 'Cities',
    summary: 'Cinemas of a city',
    query: pageQuery,
    item: schemas.cinema,
    parentNotFound: 'CITY_NOT_FOUND',
    list: cinemasOfCity,
  }),

  ...crudRoutes({
    tag: 'Cinemas',
    path: '/cinemas',
    noun: 'cinema',
    entity: schemas.cinema,
    fields: schemas.cinemaFields,
    filters: { cityId: id.optional() },
    notFound: 'CINEMA_NOT_FOUND',
    managed: true,
    writeErrors: ['CITY_NOT_FOUND', 'OPERATOR_NOT_FOUND'],
    deleteErrors: ['CINEMA_HAS_HALLS'],
    list: listCinemas,
    get: getCinema,
    create: (deps, actor, cinema) =>
      createCinema(deps, actor, { ...cinema, address: cinema.address ?? null, currency: cinema.currency ?? 'RUB' }),
    update: updateCinema,
    remove: deleteCinema,
  }),
  relationRoute({
    path: '/cinemas/:id/halls',
    tag: 'Cinemas',
    summary: 'Halls of a cinema',
    query: pageQuery,
    item: schemas.hall,
    parentNotFound: 'CINEMA_NOT_FOUND',
    list: hallsOfCinema,
  }),
  relationRoute({
    path: '/cinemas/:id/showings',
    tag: 'Cinemas',
    summary: 'Showings of a cinema',
    query: showingQueryWithoutParent('cinemaId'),
    item: schemas.showing,
    parentNotFound: 'CINEMA_NOT_FOUND',
    list: showingsOfCinema,
  }),

  ...crudRoutes({
    tag: 'Halls',
    path: '/halls',
    noun: 'hall',
    entity: schemas.hall,
    detail: schemas.hallWithLayout,
    fields: schemas.hallFields,
    patchFields: {
      name: schemas.hallFields.name,
      layout: schemas.hallFields.layout,
      seating: schemas.hallFields.seating,
    },
    filters: { cinemaId: id.optional() },
    notFound: 'HALL_NOT_FOUND',
    managed: true,
    writeErrors: ['CINEMA_NOT_FOUND', 'HALL_NAME_TAKEN', 'INVALID_LAYOUT', 'HALL_HAS_SHOWINGS'],
    deleteErrors: ['HALL_HAS_SHOWINGS'],
    list: listHalls,
    get: getHall,
    create: createHall,
    update: updateHall,
    remove: deleteHall,
  }),
  relationRoute({
    path: '/halls/:id/showings',
    tag: 'Halls',
    summary: 'Showings in a hall',
    query: showingQueryWithoutParent('hallId'),
    item: schemas.showing,
    parentNotFound: 'HALL_NOT_FOUND',
    list: showingsOfHall,
  }),

  ...crudRoutes({
    tag: 'Films',
    path: '/films',
    noun: 'film',
    entity: schemas.film,
    fields: schemas.filmFields,
    notFound: 'FILM_NOT_FOUND',
    deleteErrors: ['FILM_HAS_SHOWINGS'],
    list: listFilms,
    get: getFilm,
    create: (deps, actor, film) =>
      createFilm(deps, actor, { ...film, description: film.description ?? null, ageRating: film.ageRating ?? null }),
    update: updateFilm,
    remove: deleteFilm,
  }),
  relationRoute({
    path: '/films/:id/showings',
    tag: 'Films',
    summary: 'Showings of a film (filter by cityId and date for "this film in my city today")',
    query: showingQueryWithoutParent('filmId'),
    item: schemas.showing,
    parentNotFound: 'FILM_NOT_FOUND',
    list: showingsOfFilm,
  }),

  ...crudRoutes({
    tag: 'Showings',
    path: '/showings',
    noun: 'showing',
    entity: schemas.showing,
    fields: schemas.showingFields,
    patchFields: {
      filmId: schemas.showingFields.filmId,
      startsAt: schemas.showingFields.startsAt,
      prices: schemas.showingFields.prices,
    },
    filters: schemas.showingFilters,
    notFound: 'SHOWING_NOT_FOUND',
    managed: true,
    writeErrors: [
      'HALL_NOT_FOUND',
      'FILM_NOT_FOUND',
      'SHOWING_OVERLAP',
      'SHOWING_IN_PAST',
      'PRICE_MISSING',
      'SHOWING_HAS_TICKETS',
    ],
    deleteErrors: ['SHOWING_HAS_ORDERS'],
    list: listShowings,
    get: getShowing,
    create: createShowing,
    update: updateShowing,
    remove: deleteShowing,
  }),

  defineRoute({
    method: 'get',
    path: '/schedule',
    tag: 'Schedule',
    summary: "A city's showings on a date, grouped by cinema and film, with free-seat counts",
    query: schemas.scheduleQuery,
    headers: conditional,
    response: schemas.schedule,
    responseHeaders: taggedHeaders,
    fastPath: true,
    errors: ['CITY_NOT_FOUND'],
    handler: async ({ query }, deps) => tagged(await getSchedule(deps, query)),
  }),
];
