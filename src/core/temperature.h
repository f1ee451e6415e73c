/* Degrees Celsius as degrees Fahrenheit, to a tenth of a degree: how
 * latchkey shows a temperature it holds in Celsius in the other unit. */
#ifndef LATCHKEY_TEMPERATURE_H
#define LATCHKEY_TEMPERATURE_H

/* v to 1/per of a unit (per: 10 for tenths, 100 for hundredths). */
double temperature_rounded(double v, double per);
/* A temperature. */
double temperature_fahrenheit(double celsius);
/* A difference of temperatures (no offset). */
double temperature_fahrenheit_delta(double celsius);

#endif
