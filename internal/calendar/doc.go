// Package calendar writes iCalendar objects (RFC 5545) for email invitations (iMIP,
// RFC 6047): a meeting or a placement as one VEVENT with a stable UID, sent as
// METHOD:REQUEST when it is created or changed (with a higher SEQUENCE each time) and as
// METHOD:CANCEL when it is called off, so Outlook, Google Calendar and Apple Calendar
// import it as an invitation and update the same entry instead of adding another.
//
// Times are written in UTC (the "Z" form), which every client converts to the reader's
// zone; the meeting's own zone travels in the human-readable text of the email.
package calendar
