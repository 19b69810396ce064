import { expect } from 'chai';
import { addDays, localDate, zonedInstant } from './time.js';

const HOUR = 60;
const utc = (iso: string) => Date.parse(iso);

describe('time zone arithmetic', () => {
  describe('localDate', () => {
    it('when it is late evening in UTC, should already be the next day in Vladivostok and still the same day in Los Angeles', () => {
      const instant = utc('2027-06-10T20:00:00Z');
      expect(localDate('UTC', instant)).to.equal('2027-06-10');
      expect(localDate('Asia/Vladivostok', instant)).to.equal('2027-06-11');
      expect(localDate('America/Los_Angeles', instant)).to.equal('2027-06-10');
    });

    it('when it is midnight local time, should give the new date (not hour 24 of the old one)', () => {
      expect(localDate('Europe/Kaliningrad', utc('2027-01-31T22:00:00Z'))).to.equal('2027-02-01');
      expect(localDate('Europe/Kaliningrad', utc('2027-01-31T21:59:59Z'))).to.equal('2027-01-31');
    });

    it('when the zone has a half-hour offset, should switch dates on the half hour', () => {
      expect(localDate('Asia/Kolkata', utc('2027-03-01T18:29:00Z'))).to.equal('2027-03-01');
      expect(localDate('Asia/Kolkata', utc('2027-03-01T18:30:00Z'))).to.equal('2027-03-02');
    });

    it('when no instant is given, should use now', () => {
      expect(localDate('UTC')).to.equal(new Date().toISOString().slice(0, 10));
    });
  });

  describe('zonedInstant', () => {
    it('when the zone has a fixed offset, should subtract it', () => {
      expect(zonedInstant('2027-06-10', 23 * HOUR + 30, 'Europe/Kaliningrad').toISOString()).to.equal(
        '2027-06-10T21:30:00.000Z',
      );
      expect(zonedInstant('2027-06-10', 30, 'Asia/Vladivostok').toISOString()).to.equal('2027-06-09T14:30:00.000Z');
      expect(zonedInstant('2027-06-10', 0, 'Asia/Kolkata').toISOString()).to.equal('2027-06-09T18:30:00.000Z');
      expect(zonedInstant('2027-06-10', 12 * HOUR, 'UTC').toISOString()).to.equal('2027-06-10T12:00:00.000Z');
    });

    it('when the zone is west of Greenwich, should add the offset, into the next UTC day', () => {
      expect(zonedInstant('2027-01-15', 20 * HOUR, 'America/Los_Angeles').toISOString()).to.equal(
        '2027-01-16T04:00:00.000Z',
      );
      expect(zonedInstant('2027-07-15', 20 * HOUR, 'America/Los_Angeles').toISOString()).to.equal(
        '2027-07-16T03:00:00.000Z',
      );
    });

    it('when Berlin springs forward (28 March 2027), should use winter time before 02:00 and summer time after 03:00', () => {
      expect(zonedInstant('2027-03-28', 30, 'Europe/Berlin').toISOString()).to.equal('2027-03-27T23:30:00.000Z');
      expect(zonedInstant('2027-03-28', HOUR + 59, 'Europe/Berlin').toISOString()).to.equal('2027-03-28T00:59:00.000Z');
      expect(zonedInstant('2027-03-28', 3 * HOUR + 30, 'Europe/Berlin').toISOString()).to.equal(
        '2027-03-28T01:30:00.000Z',
      );
      expect(zonedInstant('2027-03-28', 23 * HOUR + 30, 'Europe/Berlin').toISOString()).to.equal(
        '2027-03-28T21:30:00.000Z',
      );
    });

    it('when the wall-clock time does not exist (02:30 on the spring-forward day), should give an instant an hour later on the clock', () => {
      const instant = zonedInstant('2027-03-28', 2 * HOUR + 30, 'Europe/Berlin');
      expect(instant.toISOString()).to.equal('2027-03-28T01:30:00.000Z'); // 03:30 CEST
      expect(localDate('Europe/Berlin', instant.getTime())).to.equal('2027-03-28');
    });

    it('when Berlin falls back (31 October 2027), should use summer time before 02:00 and winter time after 03:00', () => {
      expect(zonedInstant('2027-10-31', 30, 'Europe/Berlin').toISOString()).to.equal('2027-10-30T22:30:00.000Z');
      expect(zonedInstant('2027-10-31', HOUR + 30, 'Europe/Berlin').toISOString()).to.equal('2027-10-30T23:30:00.000Z');
      expect(zonedInstant('2027-10-31', 3 * HOUR + 30, 'Europe/Berlin').toISOString()).to.equal(
        '2027-10-31T02:30:00.000Z',
      );
      expect(zonedInstant('2027-10-31', 23 * HOUR + 30, 'Europe/Berlin').toISOString()).to.equal(
        '2027-10-31T22:30:00.000Z',
      );
    });

    it('when the wall-clock time happens twice (02:30 on the fall-back day), should give one of the two instants', () => {
      const instant = zonedInstant('2027-10-31', 2 * HOUR + 30, 'Europe/Berlin').toISOString();
      expect(['2027-10-31T00:30:00.000Z', '2027-10-31T01:30:00.000Z']).to.include(instant);
    });

    it('when Auckland changes its clocks (southern hemisphere), should follow its own dates', () => {
      // NZ daylight time (+13) ends on 4 April 2027 at 03:00 local, standard time (+12) after.
      expect(zonedInstant('2027-04-03', 12 * HOUR, 'Pacific/Auckland').toISOString()).to.equal(
        '2027-04-02T23:00:00.000Z',
      );
      expect(zonedInstant('2027-04-05', 12 * HOUR, 'Pacific/Auckland').toISOString()).to.equal(
        '2027-04-05T00:00:00.000Z',
      );
    });

    it('when minutes pass midnight, should roll into the next day', () => {
      expect(zonedInstant('2027-06-10', 24 * HOUR + 30, 'Europe/Kaliningrad').toISOString()).to.equal(
        '2027-06-10T22:30:00.000Z',
      );
    });

    it('when converted back with localDate, should land on the same local date for every hour of a DST day', () => {
      for (const zone of ['Europe/Berlin', 'America/Los_Angeles', 'Pacific/Auckland', 'Asia/Kolkata']) {
        for (const date of ['2027-03-28', '2027-03-14', '2027-04-04', '2027-09-26', '2027-10-31', '2027-11-07']) {
          for (let hour = 0; hour < 24; hour += 1) {
            if (hour === 2) continue; // may not exist on a spring-forward day
            const instant = zonedInstant(date, hour * HOUR + 15, zone);
            expect(localDate(zone, instant.getTime()), `${zone} ${date} ${hour}:15`).to.equal(date);
          }
        }
      }
    });
  });

  describe('addDays', () => {
    it('when days are added across a month, a year end or a leap day, should give the calendar date', () => {
      expect(addDays('2027-01-31', 1)).to.equal('2027-02-01');
      expect(addDays('2027-12-31', 1)).to.equal('2028-01-01');
      expect(addDays('2028-02-28', 1)).to.equal('2028-02-29');
      expect(addDays('2027-02-28', 1)).to.equal('2027-03-01');
      expect(addDays('2027-03-01', -1)).to.equal('2027-02-28');
      expect(addDays('2027-03-27', 2)).to.equal('2027-03-29');
      expect(addDays('2027-06-10', 0)).to.equal('2027-06-10');
      expect(addDays('2027-06-10', 365)).to.equal('2028-06-09');
    });
  });
});
